"""The hub's Python environment runs on the box's processor and Python.

What differs from one box to another is the venv: which Python (3.11 on
Debian 12, 3.13 on 13) and which processor's wheels (amd64, or arm64 on a
Raspberry Pi). These checks need only the venv and Debian's proxy, no
systemd: the pi-trixie scenario runs them on Debian 13 arm64 under qemu, where
trixie's systemd cannot run (molecule/pi-trixie/molecule.yml).
"""

import json

import pytest

from tests.box.box import SLOWNESS, VENV_HOME

pytestmark = [pytest.mark.hub_python, pytest.mark.rebuild]

VENV = f"{VENV_HOME}/venv"
# Under qemu a Python program starts 5 to 10 times slower.
PATIENCE = int(120 * SLOWNESS)


def in_the_venv(host, script, *args):
    """Run a Python script with the venv's python on the box; its output."""
    quoted = " ".join(f"'{arg}'" for arg in args)
    return host.check_output(f"{VENV}/bin/python - {quoted} <<'PYTHON'\n{script}\nPYTHON")


def test_every_compiled_module_in_the_venv_loads_on_this_processor(host):
    # dlopen with every symbol resolved at once: a wheel for another
    # processor, or one needing a newer C library than the box's, fails here.
    failed = json.loads(
        in_the_venv(
            host,
            """
import ctypes, json, pathlib, sysconfig
root = pathlib.Path(sysconfig.get_path("platlib"))
modules = sorted(list(root.rglob("*.cpython-*.so")) + list(root.rglob("*.abi3.so")))
failed = {}
for module in modules:
    try:
        ctypes.CDLL(str(module))
    except OSError as error:
        failed[str(module.relative_to(root))] = str(error)
print(json.dumps({"count": len(modules), "failed": failed}))
""",
        )
    )
    assert failed["count"] > 20, "the venv should hold the compiled modules of bcrypt, pyzmq, tornado, ..."
    assert failed["failed"] == {}


def test_the_hub_starts_behind_the_proxy_and_answers(host):
    # A hub of its own, in a folder of its own and on ports the box does not
    # use: the box's own hub (if this box has one) is left alone.
    answer = json.loads(
        in_the_venv(
            host,
            """
import json, subprocess, sys, tempfile, time, urllib.request
patience = int(sys.argv[1])
folder = tempfile.mkdtemp()
hub = subprocess.Popen(
    [sys.prefix + "/bin/jupyterhub", "--ip=127.0.0.1", "--port=18765",
     "--JupyterHub.hub_port=18767",
     "--ConfigurableHTTPProxy.api_url=http://127.0.0.1:18766",
     "--JupyterHub.authenticator_class=nativeauthenticator.NativeAuthenticator"],
    cwd=folder, stdout=subprocess.DEVNULL, stderr=open(folder + "/hub.log", "w"),
)
deadline = time.monotonic() + patience
answer = None
while answer is None and time.monotonic() < deadline and hub.poll() is None:
    try:
        with urllib.request.urlopen("http://127.0.0.1:18765/hub/api", timeout=5) as reply:
            answer = json.load(reply)
    except OSError:
        time.sleep(2)
hub.terminate()
hub.wait(patience)
print(json.dumps(answer or {"log": open(folder + "/hub.log").read()[-3000:]}))
""",
            str(PATIENCE),
        )
    )
    assert "version" in answer, answer.get("log")
    pinned = host.check_output(f"grep -E '^jupyterhub==' {VENV_HOME}/requirements.txt")
    assert pinned.split()[0] == f"jupyterhub=={answer['version']}"


def test_a_kernel_from_the_venv_runs_a_cell(host):
    printed = in_the_venv(
        host,
        """
import sys
from jupyter_client.manager import start_new_kernel
patience = int(sys.argv[1])
manager, client = start_new_kernel(kernel_name="python3", startup_timeout=patience)
try:
    printed = []
    client.execute_interactive(
        "import platform; print(6 * 7, platform.machine())",
        timeout=patience,
        output_hook=lambda message: printed.append(message["content"].get("text", "")),
    )
finally:
    client.stop_channels()
    manager.shutdown_kernel(now=True)
print("".join(printed).strip())
""",
        str(PATIENCE),
    )
    assert printed.splitlines()[-1] == f"42 {host.check_output('uname -m')}"

"""The box's Python environments run on the box's processor and Python: the
hub's venv, and the course's environment that the students' kernel runs.

What differs from one box to another is the environments: which Python (3.11
on Debian 12, 3.13 on 13) and which processor's wheels (amd64, or arm64 on a
Raspberry Pi). These checks need only the environments and Debian's proxy, no
systemd: the pi-trixie scenario runs them on Debian 13 arm64 under qemu, where
trixie's systemd cannot run (molecule/pi-trixie/molecule.yml).
"""

import json
import shlex
from pathlib import Path

import pytest

from tests.box.box import COURSE, SLOWNESS, VENV_HOME

pytestmark = [pytest.mark.hub_python, pytest.mark.rebuild]

VENV = f"{VENV_HOME}/venv"
# Under qemu a Python program starts 5 to 10 times slower.
PATIENCE = int(120 * SLOWNESS)


def in_the_venv(host, script, *args, venv=VENV, environment=""):
    """Run a Python script with a venv's python on the box; its output."""
    quoted = " ".join(shlex.quote(arg) for arg in args)
    return host.check_output(f"{environment} {venv}/bin/python - {quoted} <<'PYTHON'\n{script}\nPYTHON")


@pytest.mark.parametrize("venv", [VENV, f"{COURSE}/current"], ids=["hub", "course"])
def test_every_compiled_module_in_the_venv_loads_on_this_processor(host, venv):
    # dlopen with every symbol resolved at once: a wheel for another
    # processor, or one needing a newer C library than the box's, fails here.
    failed = json.loads(
        in_the_venv(
            host,
            """
import ctypes, json, os, pathlib, sysconfig
root = pathlib.Path(sysconfig.get_path("platlib"))
modules = sorted(list(root.rglob("*.cpython-*.so")) + list(root.rglob("*.abi3.so")))
failed = {}
for module in modules:
    try:
        ctypes.CDLL(str(module))
    except OSError as error:
        failed[str(module.relative_to(root))] = str(error)
print(json.dumps({"count": len(modules), "failed": failed}), flush=True)
# Out at once: modules loaded this way, never imported, may abort in their
# finalizers at a normal exit (numpy's and matplotlib's do).
os._exit(0)
""",
            venv=venv,
        )
    )
    assert failed["count"] > 20, "the venv should hold compiled modules (bcrypt, pyzmq, tornado; numpy, pandas)"
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


# The fixes the box carries for the venv's packages (jupyterhub role, tasks/fixes.yml).
FIXES = sorted(path.name for path in (Path(__file__).parents[2] / "roles/jupyterhub/files/fixes").glob("*.patch"))


@pytest.fixture(scope="module")
def site_packages(host):
    """The hub venv's site-packages (one Python start: several seconds under qemu)."""
    return in_the_venv(host, "import sysconfig; print(sysconfig.get_path('purelib'))").strip()


@pytest.mark.smoke
@pytest.mark.parametrize("fix", FIXES)
def test_the_fixes_for_the_venvs_packages_are_applied(host, site_packages, fix):
    undone = host.run(
        f"cd {site_packages} && git apply --reverse --check --exclude='*/tests/*' --exclude='tests/*' "
        f"{VENV_HOME}/fixes/{fix}"
    )
    assert undone.rc == 0, f"{fix} is not applied: {undone.stderr}"


@pytest.mark.smoke
def test_a_students_server_imports_no_database_code_and_compiles_nothing(host):
    # As a student's server starts: as a user who cannot write the venv, where
    # stale bytecode (a fixed module not compiled again) is compiled at every start.
    imported = host.run(
        f"runuser -u nobody -- {VENV}/bin/python -v - <<'PYTHON'\n"
        "import sys, jupyterhub.singleuser, jupyterlab_server.settings_utils\n"
        "database = {'sqlalchemy', 'alembic'}\n"
        "print(*sorted(m for m in sys.modules if m.partition('.')[0] in database or m == 'jupyterhub.orm'))\n"
        "PYTHON"
    )
    assert imported.rc == 0, imported.stderr[-2000:]
    assert imported.stdout.strip() == "", "the hub's database code in a student's server"
    stale = [line for line in imported.stderr.splitlines() if "bytecode is stale" in line]
    assert not stale


# The hub venv's own kernel (JupyterLab's dependency), and the course's, which
# the students' servers find first (JUPYTER_PATH, jupyterhub role).
KERNELS = {
    "hub": ("", "import platform, sys; print(6 * 7, platform.machine(), sys.prefix)"),
    "course": (
        f"JUPYTER_PATH={COURSE}/jupyter",
        "import platform, sys, numpy, pandas, matplotlib; matplotlib.use('agg'); import matplotlib.pyplot as plt; "
        "plt.plot(numpy.arange(3), pandas.Series([1, 2, 3])); print(6 * 7, platform.machine(), sys.prefix)",
    ),
}


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_kernel_runs_a_cell(host, kernel):
    environment, code = KERNELS[kernel]
    printed = in_the_venv(
        host,
        """
import sys
from jupyter_client.manager import start_new_kernel
patience, code = int(sys.argv[1]), sys.argv[2]
manager, client = start_new_kernel(kernel_name="python3", startup_timeout=patience)
try:
    printed = []
    client.execute_interactive(
        code,
        timeout=patience,
        output_hook=lambda message: printed.append(message["content"].get("text", "")),
    )
finally:
    client.stop_channels()
    manager.shutdown_kernel(now=True)
print("".join(printed).strip())
""",
        str(PATIENCE),
        code,
        environment=environment,
    )
    prefix = VENV if kernel == "hub" else host.file(f"{COURSE}/current").linked_to
    assert printed.splitlines()[-1] == f"42 {host.check_output('uname -m')} {prefix}"

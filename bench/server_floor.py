"""The least CPU a student's Jupyter server and kernel take, measured on the box.

Runs on the box, as root (the demo box: `make bench-floor`; a real box:
`ssh box sudo /opt/jupyterhub/venv/bin/python - < bench/server_floor.py`).
A throwaway system user starts the venv's Jupyter Server directly (no hub,
no login, no proxy: less than a student's server costs), one at a time, in
four setups:

- Jupyter Server alone (every server extension off);
- with JupyterLab only;
- the box's server (every extension the box enables);
- the same, with a kernel that cannot import debugpy (JupyterLab's debugger).

Each makes the requests JupyterLab's first load makes of a student's server
(the static files come from nginx), then starts a notebook's kernel (the
course's, as students get it) and waits until it is idle. It prints the
median CPU seconds (user and system, from /proc) of the server at its start,
after the first load, after the kernel started, and of the kernel.
Only the standard library: the script runs under the venv's Python.
"""

import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

VENV = "/opt/jupyterhub/venv"
COURSE_JUPYTER = "/opt/classbox/course/jupyter"
USER = "classbox-floor"
HOME = "/var/tmp/classbox-floor"
PORT = 18_899
RUNS = int(os.environ.get("RUNS", "5"))
TICKS = os.sysconf("SC_CLK_TCK")

# What JupyterLab 4 asks a student's server for on a first load (recorded
# with Chromium on the demo box; the files under static/ come from nginx).
CORE_LOAD = ["api/me", "api/terminals", "api/kernelspecs", "api/kernels", "api/sessions", "api/contents?content=1"]
LAB_LOAD = [
    "lab",
    "lab/api/settings",
    "lab/api/workspaces",
    "lab/api/translations/default",
    "lab/api/translations",
    "lab/api/settings/@jupyterlab/docmanager-extension:plugin",
    "lab/api/themes/@jupyterlab/theme-light-extension/index.css",
    "lab/api/settings/@jupyterlab/codemirror-extension:plugin",
    "lab/api/settings/@jupyterlab/notebook-extension:panel",
    "lab/api/workspaces/default",
    "lab/api/settings?ids_only=true",
]


def enabled_extensions():
    listing = subprocess.run([f"{VENV}/bin/jupyter", "server", "extension", "list"], capture_output=True, text=True)
    names = []
    for line in (listing.stdout + listing.stderr).splitlines():
        words = line.split()
        if len(words) >= 2 and "enabled" in words[1]:
            names.append(words[0])
    return names


def stat_fields(pid):
    """/proc/<pid>/stat after the command's name (which may hold spaces): state, ppid, ..."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and stat_fields(entry)[1] == str(pid):
                found.append(int(entry))
        except OSError:
            pass
    return found


def ask(token, path, method="GET", body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.read()


def wait_for_kernel(kernel_id):
    """Until the kernel answers kernel_info, as JupyterLab's first request to it."""
    from jupyter_client import BlockingKernelClient  # the venv's: the script runs under its Python

    connection_file = f"{HOME}/.local/share/jupyter/runtime/kernel-{kernel_id}.json"
    deadline = time.monotonic() + 60
    while not os.path.exists(connection_file):
        if time.monotonic() > deadline:
            raise RuntimeError("the kernel wrote no connection file within 60 s")
        time.sleep(0.05)
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
    finally:
        client.stop_channels()


def one_server(switched_off, load, env):
    token = os.urandom(16).hex()
    command = [
        f"{VENV}/bin/jupyter-server",
        "--no-browser",
        f"--port={PORT}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={HOME}",
    ] + [f"--ServerApp.jpserver_extensions={name}=False" for name in switched_off]
    server = subprocess.Popen(
        ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "--", *command],
        env={"HOME": HOME, "PATH": f"{VENV}/bin:/usr/bin:/bin", "JUPYTER_PATH": COURSE_JUPYTER, **env},
        cwd=HOME,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ask(token, "api/status")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not answer within 60 s") from None
                time.sleep(0.02)
        figures = {"start": cpu_seconds(server.pid)}
        for path in load:
            try:
                ask(token, path)
            except urllib.error.HTTPError as error:
                if error.code != 404:  # as for a browser: the terminals' API is an extension
                    raise
        figures["first load"] = cpu_seconds(server.pid)
        notebook = {"path": "floor.ipynb", "type": "notebook", "kernel": {"name": "python3"}}
        session = json.loads(ask(token, "api/sessions", "POST", notebook))
        wait_for_kernel(session["kernel"]["id"])
        figures["kernel started"] = cpu_seconds(server.pid)
        figures["kernel"] = sum(cpu_seconds(pid) for pid in children(server.pid))
        return figures
    finally:
        for pid in children(server.pid):
            os.kill(pid, 9)
        server.kill()
        server.wait()


def main():
    if os.geteuid() != 0:
        sys.exit("run as root on the box: it starts servers as a throwaway user")
    extensions = enabled_extensions()
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", HOME, USER], check=True)
    no_debugpy = f"{HOME}-no-debugpy"
    try:
        os.makedirs(f"{no_debugpy}/debugpy", exist_ok=True)
        with open(f"{no_debugpy}/debugpy/__init__.py", "w") as stub:
            stub.write("raise ImportError('left out by server_floor.py')\n")
        setups = [
            ("Jupyter Server alone", extensions, CORE_LOAD, {}),
            ("with JupyterLab only", [name for name in extensions if name != "jupyterlab"], CORE_LOAD + LAB_LOAD, {}),
            ("the box's server", [], CORE_LOAD + LAB_LOAD, {}),
            ("the box's, kernel without debugpy", [], CORE_LOAD + LAB_LOAD, {"PYTHONPATH": no_debugpy}),
        ]
        print(f"CPU seconds, median of {RUNS} (one server at a time; the box's extensions: {', '.join(extensions)})")
        print(f"{'':36} {'start':>7} {'+ load':>7} {'+ kernel':>9} {'kernel':>7} {'total':>7}")
        user = pwd.getpwnam(USER)
        runs = {name: [] for name, *_ in setups}
        for _ in range(RUNS):  # the setups take turns: a slower minute of the machine slows each alike
            for name, switched_off, load, env in setups:
                shutil.rmtree(HOME, ignore_errors=True)  # each server starts with an empty home
                os.makedirs(HOME)
                os.chown(HOME, user.pw_uid, user.pw_gid)
                runs[name].append(one_server(switched_off, load, env))
        for name, figures in runs.items():
            median = {key: statistics.median(run[key] for run in figures) for key in figures[0]}
            total = median["kernel started"] + median["kernel"]
            print(
                f"{name:36} {median['start']:7.2f} {median['first load']:7.2f} {median['kernel started']:9.2f}"
                f" {median['kernel']:7.2f} {total:7.2f}"
            )
    finally:
        subprocess.run(["userdel", USER], check=False)
        shutil.rmtree(HOME, ignore_errors=True)
        shutil.rmtree(no_debugpy, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Privacy, probed from inside students' own notebooks, and the memory limit."""

import ast
import errno

from playwright.sync_api import expect

from tests.box.box import HUB_URL, VENV_HOME, new_student_name, patient
from tests.box.lab import go_to, log_in, new_notebook, new_student, open_lab, restart_server, run_cell

PROBE = """
import os, subprocess
seen = {{}}
def attempt(key, action):
    try:
        action()
        seen[key] = "allowed"
    except (PermissionError, FileNotFoundError, subprocess.CalledProcessError) as error:
        seen[key] = type(error).__name__
try:
    seen["private_listing"] = sorted(os.listdir("/var/lib/private"))
except PermissionError:
    seen["private_listing"] = []
attempt("list_other", lambda: os.listdir("/var/lib/private/{other}"))
attempt("read_other", lambda: open("/var/lib/private/{other}/secret.txt").read())
attempt("read_other_link", lambda: open("/var/lib/{other}/secret.txt").read())
attempt("read_hub_db", lambda: open("/var/lib/jupyterhub/jupyterhub.sqlite", "rb").read(1))
attempt("become_root", lambda: os.setuid(0))
attempt("sudo", lambda: subprocess.run(["sudo", "-n", "true"], check=True, capture_output=True))
seen["other_tmp_visible"] = os.path.exists("/tmp/{other}-note.txt")
print(sorted(seen.items()))
"""


# Listens on every TCP port open on the box for a few seconds, as a ZeroMQ
# subscriber: a kernel's output channel (iopub) would hand it everything that
# kernel prints. Also says which processes it sees and how its own kernel talks.
EAVESDROP = """
import json, os, time, zmq
from ipykernel.connect import get_connection_info
needle = str(104729 * 1299709).encode()
ports = set()
for line in open("/proc/self/net/tcp").read().splitlines()[1:]:
    fields = line.split()
    if fields[3] == "0A":
        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
context = zmq.Context()
poller = zmq.Poller()
for port in ports:
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    socket.connect(f"tcp://127.0.0.1:{port}")
    poller.register(socket, zmq.POLLIN)
heard, deadline = b"", time.monotonic() + 6
while time.monotonic() < deadline:
    for socket, _ in poller.poll(200):
        heard += b"".join(socket.recv_multipart())
context.destroy(linger=0)
me = os.getuid()
others = [p for p in os.listdir("/proc") if p.isdigit() and os.stat(f"/proc/{p}").st_uid != me]
own = json.loads(get_connection_info())
print(sorted({"ports": len(ports), "heard": needle in heard, "other_processes": len(others),
              "transport": own["transport"], "ipc_path": own["ip"]}.items()))
"""


def two_students_with_a_notebook_each(page, other_page):
    """Two students at two computers, each in a new notebook; returns their names."""
    first, second = new_student_name("one"), new_student_name("two")
    for name, person in ((first, page), (second, other_page)):
        new_student(person, name)
        open_lab(person, name)
        new_notebook(person)
    return first, second


def test_a_student_cannot_reach_another_students_files_server_or_root(page, other_page):
    owner, prober = two_students_with_a_notebook_each(page, other_page)
    run_cell(page, f"print(open('secret.txt', 'w').write('mine'), open('/tmp/{owner}-note.txt', 'w').write('x'))")

    other = other_page
    seen = dict(ast.literal_eval(run_cell(other, PROBE.format(other=owner))))
    # systemd shows each student's unit only its own folder in /var/lib/private
    assert owner not in seen["private_listing"], seen
    assert seen["list_other"] != "allowed", seen
    assert seen["read_other"] != "allowed"
    assert seen["read_other_link"] != "allowed"
    assert seen["read_hub_db"] != "allowed"
    assert seen["become_root"] == "PermissionError"
    assert seen["sudo"] != "allowed"
    assert seen["other_tmp_visible"] is False

    # The other student's server answers "forbidden", and shows nothing of theirs.
    answer = other.goto(f"{HUB_URL}/user/{owner}/api/contents")
    assert answer.status == 403
    assert "secret.txt" not in other.content()


# Starts processes until the box says no, then stops them all.
FORK_UNTIL_REFUSED = """
import subprocess
started, refused = [], None
try:
    while len(started) < 5000:
        started.append(subprocess.Popen(["sleep", "300"]))
except OSError as error:
    refused = error.errno
for process in started:
    process.kill()
    process.wait()
print(len(started), refused)
"""


def test_a_runaway_notebook_hits_its_own_limits_and_nobody_else_notices(page, other_page, host):
    _, runaway = two_students_with_a_notebook_each(page, other_page)
    other = other_page
    # Processes: a fork bomb stops at the student's own TasksMax (the server,
    # the kernel and their threads hold some of it), not at the box's table.
    tasks_max = int(host.check_output(f"systemctl show -p TasksMax --value jupyter-{runaway}-singleuser"))
    assert tasks_max == 512  # jupyterhub_student_tasks_max's default
    started, refused = run_cell(other, FORK_UNTIL_REFUSED).split()
    assert refused == str(errno.EAGAIN)
    assert tasks_max - 60 < int(started) < tasks_max, started
    assert run_cell(page, "print(sum(range(10)))").strip() == "45"
    # Memory: the kernel that takes too much dies, and only it.
    cells = other.locator(".jp-Notebook .jp-Cell")
    cells.last.locator(".cm-content").click()
    other.keyboard.type("hog = b'x' * (4 * 1024 ** 3)  # 4 GB, past the limit and the swap allowed")
    other.keyboard.press("Shift+Enter")
    expect(other.get_by_text("appears to have died")).to_be_visible(timeout=120_000)

    # the hub and the other student carry on
    assert page.request.get(f"{HUB_URL}/hub/api").ok
    assert run_cell(page, "print(sum(range(10)))").strip() == "45"


def test_a_student_cannot_overhear_another_students_kernel_or_see_their_processes(page, other_page):
    talker, listener = two_students_with_a_notebook_each(page, other_page)
    # The talker's kernel prints for half a minute while the listener listens.
    printing = run_cell(
        page, "import time\nfor _ in range(120):\n    print(104729 * 1299709, flush=True)\n    time.sleep(0.25)"
    )
    assert "136117223861" in printing

    seen = dict(ast.literal_eval(run_cell(other_page, EAVESDROP)))
    assert seen["ports"] > 0, seen  # the box's own services listen; the probe really looked
    assert seen["heard"] is False, seen
    # Kernels talk over Unix sockets in the student's private /tmp, not over TCP.
    assert seen["transport"] == "ipc", seen
    assert seen["ipc_path"].startswith("/tmp/"), seen
    # Only the student's own processes are visible (systemd's ProtectProc=invisible).
    assert seen["other_processes"] == 0, seen


OWN_SERVER_CONFIG = """
import os
home = os.path.expanduser("~")
os.makedirs(f"{home}/.jupyter", exist_ok=True)
with open(f"{home}/.jupyter/jupyter_server_config.py", "w") as config:
    config.write("open(__import__('os').path.expanduser('~/config-ran'), 'w').write('ran')\\n")
themes = f"{home}/.jupyter/lab/user-settings/@jupyterlab/apputils-extension"
os.makedirs(themes, exist_ok=True)
with open(f"{themes}/themes.jupyterlab-settings", "w") as settings:
    settings.write('{"theme": "JupyterLab Dark"}')
print("written")
"""


def test_a_students_own_server_config_is_ignored_but_their_lab_settings_are_kept(host, page):
    name = new_student_name("cfg")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    assert run_cell(page, OWN_SERVER_CONFIG).strip() == "written"

    restart_server(page, name)
    # the config is there, and would have written ~/config-ran when the server started
    assert host.file(f"/var/lib/private/{name}/.jupyter/jupyter_server_config.py").exists
    assert not host.file(f"/var/lib/private/{name}/config-ran").exists
    themes = page.request.get(f"{HUB_URL}/user/{name}/lab/api/settings/@jupyterlab/apputils-extension:themes")
    assert themes.ok
    assert "JupyterLab Dark" in themes.json()["raw"]


# A notebook the student trusts (signed with their own key, as `jupyter trust`
# does), whose output runs a script when it is shown: it marks the page, as a
# script that reads the hub's pages with the viewer's session could.
TRUSTED_SCRIPT = f"""
import json, subprocess
output = {{"output_type": "display_data", "metadata": {{}},
          "data": {{"text/html": "<script>document.body.dataset.studentScript = 'ran'</script>ran"}}}}
cell = {{"cell_type": "code", "id": "shown", "execution_count": 1, "metadata": {{}}, "source": "1",
        "outputs": [output]}}
notebook = {{"cells": [cell], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}}
json.dump(notebook, open("homework.ipynb", "w"))
subprocess.run(["{VENV_HOME}/venv/bin/jupyter", "trust", "homework.ipynb"], check=True, capture_output=True)
print("trusted")
"""


def test_the_teacher_cannot_open_a_students_server_so_its_pages_never_run_in_the_teachers_browser(
    page, other_page, admin_credentials
):
    student = new_student_name("trust")
    new_student(page, student)
    open_lab(page, student)
    new_notebook(page)
    assert run_cell(page, TRUSTED_SCRIPT).strip() == "trusted"
    # in the student's own browser the script runs: the check below can fail
    page.goto(f"{HUB_URL}/user/{student}/lab/tree/homework.ipynb")
    expect(page.locator("body[data-student-script='ran']")).to_have_count(1, timeout=patient(60_000))

    teacher = other_page
    assert log_in(teacher, *admin_credentials) == 302
    go_to(teacher, f"{HUB_URL}/user/{student}/lab/tree/homework.ipynb")
    # The hub asks the teacher to authorize the student's server (an admin may
    # open any server, as far as the hub knows); the server then refuses them.
    if "/oauth2/authorize" in teacher.url:
        with teacher.expect_response(lambda r: r.url.endswith("/lab/tree/homework.ipynb")) as answer:
            teacher.get_by_role("button", name="Authorize").click()
        assert answer.value.status == 403
    expect(teacher.locator("body")).to_contain_text(f"user {admin_credentials[0]} is not allowed")
    expect(teacher.locator("#jp-main-dock-panel")).to_have_count(0)
    assert teacher.locator("body[data-student-script]").count() == 0

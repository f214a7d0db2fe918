"""Restarting the hub never costs a student their session, nor a 500 page."""

from tests.box.box import hub_answers, new_student_name, wait_until
from tests.box.lab import new_notebook, new_student, open_lab, run_cell


def restart_hub(host):
    host.check_output("systemctl restart jupyterhub.service")
    wait_until(hub_answers, 60, "the hub did not answer after its restart")


def test_a_notebook_keeps_running_while_the_hub_restarts(host, page):
    name = new_student_name("rsh")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    assert run_cell(page, "x = 20; print(x + 1)").strip() == "21"
    # the class shares classroom.slice; Node.js (the proxy's) is hidden from it
    unit = f"jupyter-{name}-singleuser.service"
    assert host.check_output(f"systemctl show -p Slice --value {unit}") == "classroom.slice"
    assert run_cell(page, "import shutil; print(shutil.which('node'))").strip() == "None"
    restart_hub(host)
    # same kernel, same variables: the proxy kept the route, the server kept running
    assert run_cell(page, "print(x * 2)").strip() == "40"


def test_login_after_a_server_was_stopped_outside_the_hub(host, page):
    """The seed's "500 : Internal Server Error" (SystemdSpawner issues 76 and 142)."""
    name = new_student_name("stl")
    new_student(page, name)
    open_lab(page, name)
    unit = f"jupyter-{name}-singleuser"
    host.check_output(f"systemctl stop {unit}.service")
    stale = host.file(f"/run/{unit}")
    assert stale.is_symlink and not host.file(stale.linked_to).exists
    restart_hub(host)
    open_lab(page, name)
    assert host.service(f"{unit}.service").is_running

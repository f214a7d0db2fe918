"""The idle culler stops a server nobody uses (with a short timeout, set through
the playbook for this test), and the student's files stay."""

import pytest

from tests.box.box import new_student_name, only_in_the_first_pass, wait_until
from tests.box.lab import new_notebook, new_student, open_lab, run_cell
from tests.box.playbook import run_site


@pytest.fixture
def short_idle_timeout(host):
    only_in_the_first_pass(host, "the culler")
    # only the hub's part: the setting is the jupyterhub role's (and a whole run takes minutes)
    run_site(tags="jupyterhub", jupyterhub_idle_timeout=30)
    yield
    run_site(tags="jupyterhub")


def test_an_idle_server_is_stopped_and_its_files_stay(short_idle_timeout, host, page):
    name = new_student_name("idle")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    run_cell(page, "print(open('notes.txt', 'w').write('kept'))")
    page.context.close()  # the student walks away

    unit = host.service(f"jupyter-{name}-singleuser.service")
    wait_until(lambda: not unit.is_running, 180, "the idle server was not stopped", every=5)
    assert host.file(f"/var/lib/private/{name}/notes.txt").content_string == "kept"

"""The upgrade scenario's checks (molecule/upgrade): a box provisioned by the
first release (0.1.0), then by this version, as a teacher upgrades. The class
left on it before the upgrade (tests/upgrade/before.py, recorded in the
scenario's prepare step) is all there; then the second way to a new version:
its backup restored onto a new Debian 13 (trixie) box, as when a class moves
to a newly flashed card. Other scenarios skip these."""

import json
import os
import re

import pytest
from playwright.sync_api import expect

from tests.box.box import BOX_CONTAINER, HUB_URL, second_box
from tests.box.lab import log_in, login_error, new_notebook, open_lab, restart_server, run_cell, wait_for_lab
from tests.box.playbook import restore_onto, run_playbook
from tests.upgrade.state import BLOCKED, FILE, PASSWORD, SERVER_UNIT, STUDENT, box_state, on_box, record_path

pytestmark = [
    pytest.mark.upgrade,
    pytest.mark.skipif(
        os.environ.get("MOLECULE_SCENARIO_NAME") != "upgrade", reason="needs the box molecule/upgrade prepares"
    ),
]

NEW_BOX = "classbox-upgrade-trixie"
NEW_BOX_PORT = os.environ.get("BOX_RESTORE_TEST_PORT", "18083")
NEW_BOX_IMAGE = os.environ.get("BOX_RESTORE_IMAGE", "classbox/debian-systemd:trixie")
NEW_HUB = f"http://127.0.0.1:{NEW_BOX_PORT}/jupyterhub"


@pytest.fixture(scope="module")
def before():
    """The box as the first release left it, recorded in the prepare step."""
    path = record_path()
    if not path.is_file():
        pytest.fail(f"{path} is missing: molecule/upgrade's prepare step records the box before the upgrade")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def after():
    return box_state(BOX_CONTAINER)


def test_the_hubs_secrets_are_the_same(before, after):
    # a new cookie secret would log every student out; a new proxy token is harmless but shows a rebuilt state
    assert after["secrets"] == before["secrets"]


def kept(rows, before):
    """The rows of the accounts made before the upgrade (the smoke checks add students of their own)."""
    names = {row[0] for row in before}
    return [row for row in rows if row[0] in names]


def test_accounts_password_hashes_and_approval_are_the_same(before, after):
    assert kept(after["users"], before["users"]) == before["users"]
    assert kept(after["users_info"], before["users_info"]) == before["users_info"]


def test_the_students_file_is_kept_with_its_owner(before, after):
    assert after["file"] == before["file"]
    # the student's folder and file belong to the student's (dynamic) user
    folder_owner = on_box(BOX_CONTAINER, "stat", "-c", "%u", FILE.rsplit("/", 1)[0])
    assert on_box(BOX_CONTAINER, "stat", "-c", "%u", FILE) == folder_owner != "0"


def test_the_students_server_and_kernel_kept_running_through_the_upgrade(before):
    # the hub restarts without stopping students' servers (cleanup_servers = False): nobody loses their work
    assert on_box(BOX_CONTAINER, "systemctl", "show", "-p", "MainPID", "--value", SERVER_UNIT) == before["server_pid"]
    assert "ipykernel_launcher" in on_box(BOX_CONTAINER, "systemctl", "status", "-l", "--no-pager", SERVER_UNIT)


def test_the_student_logs_in_with_the_same_password_and_works_on(before, page):
    open_lab(page, STUDENT, PASSWORD)
    answer = page.request.get(f"{HUB_URL}/user/{STUDENT}/api/contents/kept.txt?content=1")
    assert answer.ok, answer.status
    assert answer.json()["content"] == before["file"]["content"]
    # a new notebook in a window without the tabs left open before (?reset)
    page.goto(f"{HUB_URL}/user/{STUDENT}/lab?reset")
    wait_for_lab(page, STUDENT)
    new_notebook(page)
    assert run_cell(page, "print(open('kept.txt').read())").strip() == before["file"]["content"]


def test_the_students_next_server_runs_with_this_releases_protections(page):
    """A server that ran through the upgrade keeps the first release's unit until it stops;
    the next one is this release's (students see only their own processes)."""
    open_lab(page, STUDENT, PASSWORD)
    restart_server(page, STUDENT)
    properties = on_box(BOX_CONTAINER, "systemctl", "show", "-p", "ProtectProc,ProcSubset", SERVER_UNIT)
    assert set(properties.split()) == {"ProtectProc=invisible", "ProcSubset=pid"}


def test_the_student_the_teacher_blocked_is_still_refused(page):
    log_in(page, BLOCKED, PASSWORD)
    expect(login_error(page)).to_contain_text("waiting for your teacher's approval")


def test_the_teacher_logs_in(page, admin_credentials):
    log_in(page, *admin_credentials)
    page.goto(f"{HUB_URL}/hub/home")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/home"))
    expect(page.get_by_role("link", name="Students")).to_be_visible()


def students(state):
    rows = [row for row in state["users_info"] if row[0] in (STUDENT, BLOCKED)]
    assert len(rows) == 2, rows
    return rows


@pytest.fixture
def trixie_box(tmp_path, admin_credentials):
    """A new trixie box beside the upgraded one, provisioned by the real site.yml (scripts/demo.sh)."""
    with second_box(NEW_BOX, NEW_BOX_PORT, admin_credentials[1], tmp_path / "state", image=NEW_BOX_IMAGE) as env:
        yield env


def test_a_backup_of_the_upgraded_bookworm_box_restores_onto_a_new_trixie_box(page, tmp_path, trixie_box, before):
    assert on_box(NEW_BOX, "sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME") == "trixie"
    backups = tmp_path / "backups"
    run_playbook("backup.yml", backup_fetch_dir=str(backups))
    (archive,) = backups.glob("classbox-backup-*.tar.gz")
    assert (backups / f"{archive.name}.sha256").is_file()
    assert on_box(NEW_BOX, "sh", "-c", f"test -e {FILE} && echo there || echo absent") == "absent"  # not yet
    restore_onto(trixie_box, archive)

    old, new = box_state(BOX_CONTAINER), box_state(NEW_BOX)
    # the students' password hashes and approval (a restore sets the admin's password from the inventory)
    assert students(new) == students(old)
    # a restore writes every file owner-only (classbox.backup), in a folder only its student opens
    assert new["file"] == {**before["file"], "mode": "600"}
    open_lab(page, STUDENT, PASSWORD, hub=NEW_HUB)
    answer = page.request.get(f"{NEW_HUB}/user/{STUDENT}/api/contents/kept.txt?content=1")
    assert answer.ok, answer.status
    assert answer.json()["content"] == before["file"]["content"]
    log_in(page, BLOCKED, PASSWORD, hub=NEW_HUB)
    expect(login_error(page)).to_contain_text("waiting for your teacher's approval")

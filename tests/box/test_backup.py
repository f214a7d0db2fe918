"""Backup, then restore onto a freshly provisioned box: accounts, passwords and files come back."""

import os
import subprocess

import pytest
from conftest import new_student_name, only_in_the_first_pass
from lab import new_notebook, new_student, open_lab, run_cell
from playbook import PROJECT, run_playbook

NEW_BOX = "classbox-restore-test"
NEW_BOX_PORT = os.environ.get("BOX_RESTORE_TEST_PORT", "18081")
COUNT_ACCOUNTS = (
    "python3 -c \"import sqlite3; print(sqlite3.connect('/var/lib/jupyterhub/jupyterhub.sqlite')"
    ".execute('SELECT count(*) FROM users_info').fetchone()[0])\""
)


@pytest.fixture
def fresh_box(host, tmp_path, admin_credentials):
    """A second box beside the one under test, provisioned by the real site.yml."""
    only_in_the_first_pass(host, "the round trip")  # before the minutes a new box takes
    env = {
        "BOX_NAME": NEW_BOX,
        "BOX_PORT": NEW_BOX_PORT,
        "BOX_STATE_DIR": str(tmp_path / "state"),
        "BOX_ADMIN_PASSWORD": admin_credentials[1],
    }
    subprocess.run(["docker", "rm", "-f", NEW_BOX], capture_output=True)
    try:
        subprocess.run(["scripts/demo.sh", "up"], cwd=PROJECT, env={**os.environ, **env},
                       check=True, capture_output=True, text=True)
        yield env
    finally:
        subprocess.run(["docker", "rm", "-f", NEW_BOX], capture_output=True)


def on_new_box(command):
    return subprocess.run(["docker", "exec", NEW_BOX, "sh", "-c", command],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_a_backup_restored_onto_a_fresh_box_brings_back_accounts_passwords_and_files(
    host, page, tmp_path, fresh_box
):
    name = new_student_name("bak")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    run_cell(page, "print(open('kept.txt', 'w').write('still here'))")

    backups = tmp_path / "backups"
    run_playbook("backup.yml", backup_fetch_dir=str(backups))
    (archive,) = backups.glob("classbox-backup-*.tar.gz")
    assert (backups / f"{archive.name}.sha256").is_file()

    assert on_new_box(COUNT_ACCOUNTS) == "1"  # only the admin, before the restore
    run_playbook("restore.yml", inventory=PROJECT / "inventory" / "demo" / "hosts.yml",
                 env=fresh_box, backup_archive=str(archive), backup_archive_on_controller=True)

    assert on_new_box(COUNT_ACCOUNTS) == host.check_output(COUNT_ACCOUNTS)
    # the student logs in to the new box with the same password, and their
    # server (a new dynamic user on this box) reads the file
    new_hub = f"http://127.0.0.1:{NEW_BOX_PORT}/jupyterhub"
    open_lab(page, name, hub=new_hub)
    answer = page.request.get(f"{new_hub}/user/{name}/api/contents/kept.txt?content=1")
    assert answer.ok, answer.status
    assert answer.json()["content"] == "still here"

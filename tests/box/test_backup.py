"""Backup, then restore onto a freshly provisioned box: accounts, passwords and files come back;
a crafted backup changes nothing on the box."""

import hashlib
import io
import json
import os
import subprocess
import tarfile

import pytest

from tests.box.box import hub_answers, new_student_name, only_in_the_first_pass, second_box, wait_until
from tests.box.lab import new_notebook, new_student, open_lab, run_cell
from tests.box.playbook import restore_onto, run_playbook

NEW_BOX = "classbox-restore-test"
NEW_BOX_PORT = os.environ.get("BOX_RESTORE_TEST_PORT", "18081")
COUNT_ACCOUNTS = (
    "python3 -c \"import sqlite3; print(sqlite3.connect('/var/lib/jupyterhub/jupyterhub.sqlite')"
    ".execute('SELECT count(*) FROM users_info').fetchone()[0])\""
)

LIST_ACCOUNTS = (
    'python3 -c "import sqlite3; print(sorted(row[0] for row in sqlite3.connect('
    "'/var/lib/jupyterhub/jupyterhub.sqlite').execute('SELECT username FROM users_info')))\""
)
# What a failed restore must leave as it was (the database's journal comes and goes with the hub).
BOX_STATE = (
    "ls -la --time-style=full-iso /etc/cron.d; ls -A /var/lib/private; "
    "ls -A /var/lib/jupyterhub | grep -v -e '-wal$' -e '-shm$'"
)
HUB_STARTED = "systemctl show -p ActiveEnterTimestampMonotonic --value jupyterhub.service"


@pytest.fixture
def fresh_box(host, tmp_path, admin_credentials):
    """A second box beside the one under test, provisioned by the real site.yml."""
    only_in_the_first_pass(host, "the round trip")  # before the minutes a new box takes
    with second_box(NEW_BOX, NEW_BOX_PORT, admin_credentials[1], tmp_path / "state") as env:
        yield env


def on_new_box(command):
    return subprocess.run(
        ["docker", "exec", NEW_BOX, "sh", "-c", command], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_backup_restored_onto_a_fresh_box_brings_back_accounts_passwords_and_files(host, page, tmp_path, fresh_box):
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
    restore_onto(fresh_box, archive)

    assert on_new_box(COUNT_ACCOUNTS) == host.check_output(COUNT_ACCOUNTS)
    # the student logs in to the new box with the same password, and their
    # server (a new dynamic user on this box) reads the file
    new_hub = f"http://127.0.0.1:{NEW_BOX_PORT}/jupyterhub"
    open_lab(page, name, hub=new_hub)
    answer = page.request.get(f"{new_hub}/user/{name}/api/contents/kept.txt?content=1")
    assert answer.ok, answer.status
    assert answer.json()["content"] == "still here"


def crafted_backup(folder, name):
    """A backup that passes the check, then fails with the hub stopped: its database is not
    one. Its folder holds a link to /etc/cron.d, which a restore never writes through."""
    members = [
        (
            "manifest.json",
            json.dumps(
                {
                    "format": "classbox-backup 1",
                    "box": "crafted",
                    "created": "now",
                    "accounts": [name],
                    "folders": [name],
                }
            ).encode(),
        ),
        ("hub/jupyterhub.sqlite", b"not a database " * 100),
        (f"students/{name}", None),
        (f"students/{name}/cron", "/etc/cron.d"),
        (f"students/{name}/notes.txt", b"* * * * * root touch /etc/pwned\n"),
    ]
    archive = folder / "classbox-backup-crafted.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path, content in members:
            info = tarfile.TarInfo(path)
            if content is None:
                info.type = tarfile.DIRTYPE
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
            else:
                info.size = len(content)
            tar.addfile(info, io.BytesIO(content) if isinstance(content, bytes) else None)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (folder / f"{archive.name}.sha256").write_text(f"{digest}  {archive.name}\n")
    return archive


def test_a_crafted_backup_changes_nothing_and_the_hub_answers_afterwards(host, tmp_path):
    only_in_the_first_pass(host, "the crafted restore")
    name = new_student_name("crafted")
    archive = crafted_backup(tmp_path, name)
    accounts, state = host.check_output(LIST_ACCOUNTS), host.check_output(BOX_STATE)
    started = host.check_output(HUB_STARTED)

    run = run_playbook("restore.yml", check=False, backup_archive=str(archive), backup_archive_on_controller=True)

    assert run.returncode != 0
    assert "the restore stopped before changing anything" in " ".join((run.stdout + run.stderr).split())
    wait_until(hub_answers, 120, "the hub did not answer after the failed restore")
    assert host.check_output(HUB_STARTED) != started  # stopped for the restore, started again
    assert host.check_output(LIST_ACCOUNTS) == accounts
    assert host.check_output(BOX_STATE) == state
    assert not host.file(f"/var/lib/private/{name}").exists

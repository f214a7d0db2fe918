"""A crafted backup changes nothing on the box. (A backup restored onto a newly
provisioned box, accounts, passwords and files coming back, is the upgrade
scenario's: tests/box/test_upgrade.py, from a Debian 12 box to a Debian 13 one.)"""

import hashlib
import io
import json
import tarfile

from tests.box.box import hub_answers, new_student_name, only_in_the_first_pass, wait_until
from tests.box.playbook import run_playbook

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

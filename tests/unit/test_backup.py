import asyncio
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from classbox_hub import admin, backup


@pytest.fixture
def box(tmp_path, db_url, authenticator):
    """A hub database with an admin and two students, and their folders."""
    admin.set_password(db_url, "admin", "teacher-secret")
    for name in ("anna", "bob"):
        asyncio.run(authenticator.sign_up(name, f"{name}-classroom-42"))
    students = tmp_path / "private"
    (students / "anna" / "work").mkdir(parents=True)
    (students / "anna" / "work" / "notes.ipynb").write_text('{"cells": []}')
    (students / "anna" / "env-python").symlink_to("/usr/bin/python3")
    (students / "bob").mkdir()
    (students / "bob" / "data.csv").write_bytes(b"x,y\n1,2\n")
    (students / "systemd-thing").mkdir()  # not an account: stays out
    return {"db": Path(db_url.removeprefix("sqlite:///")), "students": students}


def test_round_trip_onto_an_empty_box_brings_back_accounts_and_files(box, tmp_path):
    made = backup.make_backup(box["db"], box["students"], tmp_path / "usb", "box1")
    assert made["accounts"] == ["admin", "anna", "bob"]
    assert made["folders"] == ["anna", "bob"]

    new_db, new_students = tmp_path / "new" / "jupyterhub.sqlite", tmp_path / "new" / "private"
    new_db.parent.mkdir()
    restored = backup.restore_backup(Path(made["archive"]), new_db, new_students)
    assert restored["folders"] == ["anna", "bob"]
    assert (new_students / "anna" / "work" / "notes.ipynb").read_text() == '{"cells": []}'
    assert os.readlink(new_students / "anna" / "env-python") == "/usr/bin/python3"
    assert (new_students / "bob" / "data.csv").read_bytes() == b"x,y\n1,2\n"
    assert not (new_students / "systemd-thing").exists()
    assert oct((new_students / "anna").stat().st_mode & 0o777) == "0o700"
    assert backup.account_names(new_db) == ["admin", "anna", "bob"]
    # the restored hashes still open the accounts
    assert admin.set_password(f"sqlite:///{new_db}", "admin", "teacher-secret") is False


def test_restore_keeps_what_it_replaces(box, tmp_path):
    made = backup.make_backup(box["db"], box["students"], tmp_path / "usb", "box1")
    (box["students"] / "anna" / "work" / "notes.ipynb").write_text("newer")
    backup.restore_backup(Path(made["archive"]), box["db"], box["students"])
    assert (box["students"] / "anna" / "work" / "notes.ipynb").read_text() == '{"cells": []}'
    kept = [p for p in box["students"].iterdir() if p.name.startswith("anna.before-restore-")]
    assert len(kept) == 1 and (kept[0] / "work" / "notes.ipynb").read_text() == "newer"
    assert list(box["db"].parent.glob("jupyterhub.sqlite.before-restore-*"))


def test_a_damaged_or_incomplete_copy_is_refused_before_any_change(box, tmp_path):
    made = backup.make_backup(box["db"], box["students"], tmp_path / "usb", "box1")
    archive = Path(made["archive"])
    checksum = backup.checksum_path(archive)
    checksum.rename(tmp_path / "elsewhere")
    with pytest.raises(backup.BackupError, match="checksum file .* is missing"):
        backup.restore_backup(archive, tmp_path / "db", tmp_path / "private2")
    (tmp_path / "elsewhere").rename(checksum)
    with open(archive, "r+b") as stream:
        stream.seek(100)
        stream.write(b"\0" * 16)
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore_backup(archive, tmp_path / "db", tmp_path / "private2")
    with pytest.raises(backup.BackupError, match="there is no backup"):
        backup.check_backup(tmp_path / "nothing.tar.gz")
    assert not (tmp_path / "db").exists() and not (tmp_path / "private2").exists()


def forged_archive(tmp_path, *members):
    """An archive with a valid manifest, database and checksum, plus `members`."""
    archive = tmp_path / "forged.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, body in [
            (backup.MANIFEST, json.dumps({"format": backup.FORMAT, "box": "x", "created": "now",
                                          "accounts": [], "folders": []}).encode()),
            (backup.DATABASE, b""),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for info in members:
            tar.addfile(info, io.BytesIO(b"") if info.isfile() else None)
    backup.checksum_path(archive).write_text(f"{backup.sha256_of(archive)}  {archive.name}\n")
    return archive


def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


@pytest.mark.parametrize(
    "members, reason",
    [
        ([member("../../etc/cron.d/evil")], "outside"),
        ([member("/etc/passwd")], "outside"),
        ([member("etc/passwd")], "unexpected file"),
        ([member("students/../../x")], "outside"),
        ([member("students/Bad Name/x")], "impossible username"),
        ([member("students/anna/link", tarfile.SYMTYPE, "/etc"), member("students/anna/link/cron")],
         "through a link"),
        ([member("students/anna/hard", tarfile.LNKTYPE, "etc/shadow")], "links outside"),
        ([member("students/anna/dev", tarfile.CHRTYPE)], "device"),
    ],
)
def test_an_archive_that_would_write_outside_the_folders_is_refused(tmp_path, members, reason):
    with pytest.raises(backup.BackupError, match=reason):
        backup.check_backup(forged_archive(tmp_path, *members))


def test_the_command_line_says_why_and_exits_2(tmp_path, capsys):
    assert backup.main_restore(["--check", str(tmp_path / "none.tar.gz")]) == 2
    assert "there is no backup" in capsys.readouterr().err

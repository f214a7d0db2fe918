import asyncio
import contextlib
import io
import json
import os
import sqlite3
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from classbox import admin, backup


@pytest.fixture
def box(tmp_path, db_url, authenticator):
    """A hub database with an admin and two students, and their folders."""
    admin.change_password(db_url, "admin", "teacher-secret")
    for name in ("anna", "bob"):
        asyncio.run(authenticator.create_user(name, f"{name}-classroom-42"))
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
    assert admin.change_password(f"sqlite:///{new_db}", "admin", "teacher-secret") is False


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


def forged_archive(tmp_path, *members, folders=("anna",), database=b""):
    """An archive with a valid checksum, a manifest that lists `folders`, a database, and `members`."""
    archive = tmp_path / "forged.tar.gz"
    manifest = {
        "format": backup.FORMAT,
        "box": "x",
        "created": "now",
        "accounts": [],
        "folders": folders if isinstance(folders, str) else list(folders),
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, body in [(backup.MANIFEST, json.dumps(manifest).encode()), (backup.DATABASE, database)]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for info in members:
            tar.addfile(info, io.BytesIO(info.name.encode()) if info.isfile() else None)
    backup.checksum_path(archive).write_text(f"{backup.sha256_of(archive)}  {archive.name}\n")
    return archive


def member(name, kind=tarfile.REGTYPE, linkname=""):
    """A member; a file holds its own name."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(name) if info.isfile() else 0
    return info


ANNA = member("students/anna", tarfile.DIRTYPE)


@pytest.mark.parametrize(
    "members, reason",
    [
        ([member("../../etc/cron.d/evil")], "outside"),
        ([member("/etc/passwd")], "outside"),
        ([member("etc/passwd")], "unexpected file"),
        ([member("students", tarfile.SYMTYPE, "/etc")], "unexpected file"),
        ([member("students/../../x")], "outside"),
        ([ANNA, member("students/anna//x")], "unusual form"),
        ([member("students/Bad Name/x")], "impossible username"),
        ([ANNA, member("students/carl", tarfile.DIRTYPE)], "manifest does not list"),
        ([member("students/anna", tarfile.SYMTYPE, "/etc")], "not a folder"),
        ([member("students/anna/x")], "into no folder"),
        (
            [ANNA, member("students/anna/link", tarfile.SYMTYPE, "/etc"), member("students/anna/link/cron")],
            "through a link",
        ),
        ([ANNA, member("students/anna/x", tarfile.SYMTYPE, "/etc/passwd"), member("students/anna/x")], "twice"),
        ([ANNA, member("students/anna/hard", tarfile.LNKTYPE, "etc/shadow")], "links outside"),
        # a hard link whose path passes through a link member: /etc/shadow on the box
        (
            [
                ANNA,
                member("students/anna/etc", tarfile.SYMTYPE, "/etc"),
                member("students/anna/shadow", tarfile.LNKTYPE, "students/anna/etc/shadow"),
            ],
            "links outside",
        ),
        ([ANNA, member("students/anna/dev", tarfile.CHRTYPE)], "device"),
        ([member(backup.MANIFEST)], "twice"),
    ],
)
def test_an_archive_that_would_write_outside_the_folders_is_refused(tmp_path, members, reason):
    with pytest.raises(backup.BackupError, match=reason):
        backup.check_backup(forged_archive(tmp_path, *members))


@pytest.fixture
def live_box(tmp_path):
    """A box to restore onto: a database, anna's and bob's folders, and files outside them."""
    root = tmp_path / "box"
    db = root / "jupyterhub" / "jupyterhub.sqlite"
    db.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute("CREATE TABLE users_info (username TEXT)")
        connection.executemany("INSERT INTO users_info VALUES (?)", [("anna",), ("bob",)])
        connection.commit()
    students = root / "private"
    for name in ("anna", "bob"):
        (students / name).mkdir(parents=True)
        (students / name / "mine.txt").write_text(f"{name}'s own")
    os.chmod(students, 0o700)
    outside = tmp_path / "etc"
    (outside / "cron.d").mkdir(parents=True)
    (outside / "passwd").write_text("root:x:0:0")
    os.chmod(outside, 0o755)
    return SimpleNamespace(db=db, students=students, outside=outside, before=snapshot(root, outside))


def snapshot(*roots):
    """Every path under roots: its kind, mode, inode and content or link target."""
    found = {}
    for root in roots:
        paths = [root] + [Path(folder, name) for folder, dirs, files in os.walk(root) for name in dirs + files]
        for path in paths:
            status = path.lstat()
            if path.is_symlink():
                what = os.readlink(path)
            elif path.is_dir():
                what = "folder"
            else:
                what = path.read_bytes()
            found[str(path)] = (what, status.st_mode, status.st_ino)
    return found


def unchanged(live_box):
    return snapshot(live_box.db.parent.parent, live_box.outside) == live_box.before


@pytest.mark.parametrize(
    "folders",
    [["../../etc/cron.d"], ["/etc/cron.d"], [".."], ["Anna"], ["a" * 33], [7], ["anna", "anna"], "anna"],
)
def test_a_manifest_folder_no_student_can_have_is_refused_before_any_change(tmp_path, live_box, folders):
    archive = forged_archive(tmp_path, ANNA, folders=folders)
    with pytest.raises(backup.BackupError, match="manifest"):
        backup.restore_backup(archive, live_box.db, live_box.students)
    assert unchanged(live_box)


def test_a_students_folder_that_is_a_link_in_the_archive_is_refused_and_nothing_followed(tmp_path, live_box):
    archive = forged_archive(tmp_path, member("students/anna", tarfile.SYMTYPE, str(live_box.outside)))
    with pytest.raises(backup.BackupError, match="not a folder"):
        backup.restore_backup(archive, live_box.db, live_box.students)
    assert unchanged(live_box)


def test_a_link_in_a_folder_comes_back_as_the_same_link_and_nothing_is_written_through_it(tmp_path, live_box):
    """Links are kept: a student could make them anyway, and the restore never writes through one."""
    archive = forged_archive(
        tmp_path,
        ANNA,
        member("students/anna/cron", tarfile.SYMTYPE, str(live_box.outside / "cron.d")),
        member("students/anna/up", tarfile.SYMTYPE, "../../../etc"),
        member("students/anna/notes.txt"),
    )
    backup.restore_backup(archive, live_box.db, live_box.students)
    anna = live_box.students / "anna"
    assert os.readlink(anna / "cron") == str(live_box.outside / "cron.d")
    assert os.readlink(anna / "up") == "../../../etc"
    assert (anna / "notes.txt").read_text() == "students/anna/notes.txt"
    assert oct(anna.lstat().st_mode & 0o777) == "0o700"
    assert snapshot(live_box.outside) == {
        path: what for path, what in live_box.before.items() if path.startswith(str(live_box.outside))
    }


def test_a_restore_with_a_folder_missing_from_the_archive_changes_nothing(tmp_path, live_box):
    archive = forged_archive(tmp_path, ANNA, member("students/anna/new.txt"), folders=["anna", "bob"])
    with pytest.raises(backup.BackupError, match="does not hold: bob"):
        backup.restore_backup(archive, live_box.db, live_box.students)
    assert unchanged(live_box)


def test_a_damaged_database_in_an_intact_archive_changes_nothing(tmp_path, live_box):
    archive = forged_archive(tmp_path, ANNA, member("students/anna/new.txt"), database=b"not a database, " * 512)
    with pytest.raises(backup.BackupError, match="changing anything"):
        backup.restore_backup(archive, live_box.db, live_box.students)
    assert unchanged(live_box)


def test_a_failure_while_moving_into_place_puts_back_what_was_moved(tmp_path, live_box):
    # The folders move in first; setting the database aside then fails: its name
    # plus ".before-restore-<time>" is longer than the file system allows.
    long_db = live_box.db.with_name("h" * 230 + ".sqlite")
    live_box.db.rename(long_db)
    before = snapshot(live_box.db.parent.parent, live_box.outside)
    archive = forged_archive(tmp_path, ANNA, member("students/anna/new.txt"))
    with pytest.raises(backup.BackupError, match="put everything back"):
        backup.restore_backup(archive, long_db, live_box.students)
    assert snapshot(live_box.db.parent.parent, live_box.outside) == before


def test_the_command_line_says_why_and_exits_2(tmp_path, capsys):
    assert backup.main_restore(["--check", str(tmp_path / "none.tar.gz")]) == 2
    assert "there is no backup" in capsys.readouterr().err

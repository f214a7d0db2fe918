"""The backup's walk while students' processes keep changing their folders.

The changes are made right after the walk lists a folder and before it opens
what it listed: the moment a student's process could swap, delete or rewrite
an entry. The walk itself is the real one; only its listing is wrapped.
"""

import contextlib
import json
import os
import shutil
import sqlite3
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from classbox import backup


@pytest.fixture
def box(tmp_path):
    """A hub database that knows anna and bob, their folders, and a root-only secret beside them."""
    db = tmp_path / "jupyterhub.sqlite"
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute("CREATE TABLE users_info (username TEXT)")
        connection.executemany("INSERT INTO users_info VALUES (?)", [("anna",), ("bob",)])
        connection.commit()
    students = tmp_path / "private"
    (students / "anna" / "work").mkdir(parents=True)
    (students / "anna" / "work" / "notes.ipynb").write_text('{"cells": []}')
    (students / "bob").mkdir()
    (students / "bob" / "data.csv").write_bytes(b"x,y\n1,2\n")
    secret = tmp_path / "root-only" / "shadow"
    secret.parent.mkdir()
    secret.write_bytes(b"SECRET-PASSWORD-HASHES")
    return SimpleNamespace(db=db, students=students, secret=secret, usb=tmp_path / "usb")


@pytest.fixture
def umask_022():
    """The laptop's usual umask; restored afterwards (main_backup sets its own)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def after_listing(monkeypatch, entry, change):
    """Call change() once, right after the walk lists the folder that holds `entry`."""
    listing = backup._listing

    def listing_then_change(folder_fd):
        found = listing(folder_fd)
        if not changed and entry in [name for name, _ in found]:
            changed.append(entry)
            change()
        return found

    changed = []
    monkeypatch.setattr(backup, "_listing", listing_then_change)


def archived(made):
    """Each member's name, and the bytes of every file in the archive."""
    with tarfile.open(made["archive"]) as tar:
        members = tar.getmembers()
        data = b"".join(tar.extractfile(member).read() for member in members if member.isfile())
        return [member.name for member in members], data


@pytest.mark.parametrize(
    "entry, owner, link_to",
    [
        ("work", "anna", "secret"),  # a folder swapped for a link to a root-only file
        ("work", "anna", "secret folder"),  # ... or to a root-only folder
        ("data.csv", "bob", "secret"),  # a file swapped for a link
    ],
)
def test_an_entry_swapped_for_a_link_during_the_walk_is_not_followed(box, tmp_path, monkeypatch, entry, owner, link_to):
    target = box.secret if link_to == "secret" else box.secret.parent

    def swap():
        (box.students / owner / entry).rename(tmp_path / "moved-away")
        (box.students / owner / entry).symlink_to(target)

    after_listing(monkeypatch, entry, swap)
    made = backup.make_backup(box.db, box.students, box.usb, "box1")
    names, data = archived(made)
    assert f"students/{owner}/{entry}" not in names
    assert b"SECRET" not in data
    assert made["folders"] == ["anna", "bob"]
    backup.check_backup(Path(made["archive"]))


def test_a_students_folder_that_is_a_link_is_left_out(box):
    shutil.rmtree(box.students / "bob")
    (box.students / "bob").symlink_to(box.secret.parent)
    made = backup.make_backup(box.db, box.students, box.usb, "box1")
    names, data = archived(made)
    assert made["folders"] == ["anna"]
    assert not [name for name in names if name.startswith("students/bob")]
    assert b"SECRET" not in data


@pytest.mark.parametrize("entry, owner", [("data.csv", "bob"), ("work", "anna")])
def test_what_vanishes_during_the_walk_is_skipped_and_the_backup_completes(box, monkeypatch, entry, owner):
    vanishing = box.students / owner / entry
    after_listing(monkeypatch, entry, lambda: shutil.move(vanishing, box.usb.parent / "elsewhere"))
    made = backup.make_backup(box.db, box.students, box.usb, "box1")
    names, _ = archived(made)
    assert f"students/{owner}/{entry}" not in names
    assert f"students/{owner}" in names
    assert made["changed"] == []
    backup.check_backup(Path(made["archive"]))


@pytest.mark.parametrize(
    "new_content, archived_content",
    [
        (b"x", b"x" + bytes(7)),  # shrank: the rest is zeros, the archive stays whole
        (b"x,y\n1,2\n3,4\n", b"x,y\n1,2\n"),  # grew: what was there when listed
        (b"a,b\n9,9\n", b"a,b\n9,9\n"),  # same size, rewritten
    ],
    ids=["shrank", "grew", "rewritten"],
)
def test_a_file_that_changes_while_read_is_listed_as_changed(
    box, tmp_path, monkeypatch, capsys, umask_022, new_content, archived_content
):
    data = box.students / "bob" / "data.csv"
    os.utime(data, ns=(0, 0))  # so that a rewrite within the same clock tick shows too
    after_listing(monkeypatch, "data.csv", lambda: data.write_bytes(new_content))
    assert (
        backup.main_backup(
            ["--db", str(box.db), "--students-root", str(box.students), "--output-dir", str(box.usb), "--box", "box1"]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["changed"] == ["students/bob/data.csv"]
    manifest, _ = backup.check_backup(Path(printed["archive"]))
    assert manifest["changed"] == ["students/bob/data.csv"]
    with tarfile.open(printed["archive"]) as tar:
        assert tar.extractfile("students/bob/data.csv").read() == archived_content
        assert tar.extractfile("students/anna/work/notes.ipynb").read() == b'{"cells": []}'


def test_the_backup_and_its_checksum_are_for_roots_eyes_only(box, umask_022):
    made = backup.make_backup(box.db, box.students, box.usb, "box1")
    archive = Path(made["archive"])
    assert oct(box.usb.stat().st_mode & 0o777) == "0o700"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert oct(backup.checksum_path(archive).stat().st_mode & 0o777) == "0o600"
    assert sorted(path.name for path in box.usb.iterdir()) == [archive.name, f"{archive.name}.sha256"]


def test_a_hard_link_inside_a_folder_comes_back_as_a_hard_link(box, tmp_path):
    notes = box.students / "anna" / "work" / "notes.ipynb"
    os.link(notes, box.students / "anna" / "same-notes.ipynb")
    made = backup.make_backup(box.db, box.students, box.usb, "box1")
    new_students = tmp_path / "new" / "private"
    backup.restore_backup(Path(made["archive"]), tmp_path / "new" / "jupyterhub.sqlite", new_students)
    restored = new_students / "anna" / "work" / "notes.ipynb"
    assert restored.read_text() == '{"cells": []}'
    assert restored.stat().st_ino == (new_students / "anna" / "same-notes.ipynb").stat().st_ino


def test_a_file_that_is_mostly_holes_is_left_out_and_listed(box):
    with open(box.students / "bob" / "huge.bin", "wb") as hollow:
        hollow.truncate(8 << 40)  # `truncate -s 8T`: 8 TB long, nothing on disk
    half = box.students / "anna" / "half-written.bin"
    with open(half, "wb") as stream:  # 100 MB with 60 MB written: not mostly holes, kept
        stream.write(b"x" * (60 << 20))
        stream.truncate(100 << 20)
    made = backup.make_backup(box.db, box.students, box.usb, "box1")
    assert made["hollow"] == ["students/bob/huge.bin"]
    manifest, _ = backup.check_backup(Path(made["archive"]))
    assert manifest["hollow"] == ["students/bob/huge.bin"]
    with tarfile.open(made["archive"]) as tar:
        assert "students/bob/huge.bin" not in tar.getnames()
        assert tar.getmember("students/anna/half-written.bin").size == 100 << 20
        assert tar.extractfile("students/bob/data.csv").read() == b"x,y\n1,2\n"

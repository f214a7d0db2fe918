"""Homework in and feedback back, with students' folders that hold links, pipes and surprises.

Root runs both on the box; these tests run as root too, so that handing back
really drops to a student's uid (a folder chowned to 12345).
"""

import contextlib
import csv
import datetime
import io
import json
import os
import shutil
import signal
import sqlite3
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from classbox import backup, homework

STUDENT_UID = 12345
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="writing as a student needs root")
WHEN = 1_700_000_000  # the files' mtime


def iso(mtime):
    return datetime.datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds")


@pytest.fixture
def box(tmp_path):
    """anna has lessons/week3 (nbgitpuller's copy), bob a week3 of his own, carl nothing, dave no folder at all."""
    students = tmp_path / "private"
    anna = students / "anna" / "lessons" / "week3"
    (anna / "data").mkdir(parents=True)
    (anna / "notebook.ipynb").write_text('{"cells": ["anna"]}')
    (anna / "data" / "points.csv").write_bytes(b"x,y\n1,2\n")
    (anna / ".ipynb_checkpoints").mkdir()
    (anna / ".ipynb_checkpoints" / "notebook-checkpoint.ipynb").write_text("{}")
    (students / "bob" / "week3").mkdir(parents=True)
    (students / "bob" / "week3" / "answers.ipynb").write_text('{"cells": ["bob"]}')
    (students / "carl" / "week2").mkdir(parents=True)
    for path in students.rglob("*"):
        os.utime(path, (WHEN, WHEN), follow_symlinks=False)
    secret = tmp_path / "root-only"
    secret.mkdir()
    (secret / "shadow").write_bytes(b"SECRET-PASSWORD-HASHES")
    return SimpleNamespace(
        students=students,
        names=["anna", "bob", "carl", "dave"],
        out=tmp_path / "homework",
        secret=secret,
        tmp=tmp_path,
    )


def collect(box, assignment="week3"):
    return homework.collect(box.students, box.names, assignment, box.out, "box1")


def contents(made):
    """{member name: bytes or None for a folder}, and the CSV's rows."""
    with tarfile.open(made["archive"]) as tar:
        found = {m.name: tar.extractfile(m).read() if m.isfile() else None for m in tar.getmembers()}
    table = found.pop(f"{made['assignment']}/handed-in.csv").decode()
    return found, list(csv.reader(io.StringIO(table)))


@contextlib.contextmanager
def no_longer_than(seconds):
    """Fail instead of hanging when something blocks (a pipe opened for reading)."""

    def blocked(*_):
        raise TimeoutError(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- collect ----------------------------------------------------------------


def test_each_students_copy_goes_in_one_folder_with_a_csv_of_who_handed_in_what(box):
    made = collect(box)
    found, rows = contents(made)
    assert found == {
        "week3": None,
        "week3/anna": None,
        "week3/anna/data": None,
        "week3/anna/data/points.csv": b"x,y\n1,2\n",
        "week3/anna/notebook.ipynb": b'{"cells": ["anna"]}',
        "week3/bob": None,
        "week3/bob/answers.ipynb": b'{"cells": ["bob"]}',
    }
    assert rows == [
        ["student", "handed_in", "file", "bytes", "modified"],
        ["anna", "yes", "data/points.csv", "8", iso(WHEN)],
        ["anna", "yes", "notebook.ipynb", "19", iso(WHEN)],
        ["bob", "yes", "answers.ipynb", "18", iso(WHEN)],
        ["carl", "no", "", "", ""],
        ["dave", "no", "", "", ""],
    ]
    assert iso(WHEN)[-6] in "+-"  # with its time zone
    assert {key: made[key] for key in made if key != "archive"} == {
        "assignment": "week3",
        "students": 4,
        "handed_in": ["anna", "bob"],
        "nothing": ["carl", "dave"],
        "files": 3,
        "bytes": 8 + 19 + 18,
        "changed": [],
        "hollow": [],
        "unreadable": [],
    }
    assert Path(made["archive"]).name.startswith("homework-week3-box1-")


def test_a_folder_that_cannot_be_read_costs_only_its_student(box, monkeypatch):
    """A lease on a file (EAGAIN at the open), folders nested past counting: that
    student is listed as unreadable, the others are collected."""
    real_open = os.open

    def leased(path, flags, *args, **kwargs):
        if path == "answers.ipynb":
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(homework.backup.os, "open", leased)
    made = collect(box)
    found, rows = contents(made)
    assert made["unreadable"] == ["bob"]
    assert ["bob", "unreadable", "[Errno 11] Resource temporarily unavailable", "", ""] in rows
    assert "week3/anna/notebook.ipynb" in found


def test_the_process_writing_as_a_student_is_ended_when_it_does_not_finish(tmp_path, monkeypatch):
    """A student's process may stop the one that writes as them (SIGSTOP): root does not wait for ever."""
    monkeypatch.setattr(homework, "CHILD_SECONDS", 0.5)
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        owner = SimpleNamespace(st_uid=os.getuid(), st_gid=os.getgid())
        with no_longer_than(10), pytest.raises(ValueError, match="did not finish"):
            homework._as_owner(folder, owner, lambda: os.kill(os.getpid(), signal.SIGSTOP))
    finally:
        os.close(folder)


def test_the_archive_is_for_roots_eyes_only_and_nothing_is_left_beside_it(box):
    made = collect(box)
    archive = Path(made["archive"])
    assert oct(box.out.stat().st_mode & 0o777) == "0o700"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert [path.name for path in box.out.iterdir()] == [archive.name]


def test_a_path_with_a_slash_is_that_folder_exactly(box):
    (box.students / "bob" / "lessons" / "week3").mkdir(parents=True)
    (box.students / "bob" / "lessons" / "week3" / "lesson.ipynb").write_text("{}")
    made = collect(box, "lessons/week3")
    found, _ = contents(made)
    assert made["assignment"] == "lessons-week3"
    assert made["handed_in"] == ["anna", "bob"]
    assert "lessons-week3/bob/lesson.ipynb" in found
    assert "lessons-week3/bob/answers.ipynb" not in found
    # without the slash, lessons/week3 comes first
    found, _ = contents(collect(box))
    assert "week3/bob/lesson.ipynb" in found and "week3/bob/answers.ipynb" not in found


@pytest.mark.parametrize(
    "link, target",
    [("lessons/week3", "/etc"), ("lessons", "/etc"), ("week3", "/etc"), ("lessons/week3", "a root-only folder")],
)
def test_a_students_link_to_the_assignment_is_not_followed(box, link, target):
    planted = box.students / "carl" / link
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(box.secret if target == "a root-only folder" else target)
    made = collect(box)
    found, rows = contents(made)
    assert not [name for name in found if name.startswith("week3/carl")]
    assert b"SECRET" not in b"".join(data for data in found.values() if data)
    assert ["carl", "no", "", "", ""] in rows


def test_links_and_pipes_in_a_copy_are_left_out_and_nothing_blocks(box):
    week3 = box.students / "anna" / "lessons" / "week3"
    (week3 / "shadow.txt").symlink_to(box.secret / "shadow")
    (week3 / "etc").symlink_to("/etc")
    os.mkfifo(week3 / "pipe")
    with no_longer_than(10):
        made = collect(box)
    found, _ = contents(made)
    assert {"week3/anna/shadow.txt", "week3/anna/etc", "week3/anna/pipe"}.isdisjoint(found)
    assert b"SECRET" not in b"".join(data for data in found.values() if data)
    assert made["files"] == 3


def test_a_file_swapped_for_a_folder_or_a_link_during_the_walk_is_left_out(box, monkeypatch):
    """Right after the walk lists anna's copy, a student's process swaps two files."""
    week3 = box.students / "anna" / "lessons" / "week3"
    listing = backup._listing

    def listing_then_swap(folder_fd):
        found = listing(folder_fd)
        if "notebook.ipynb" in [name for name, _ in found] and (week3 / "notebook.ipynb").is_file():
            (week3 / "notebook.ipynb").unlink()
            (week3 / "notebook.ipynb").mkdir()
            (week3 / "data").rename(box.tmp / "data")
            (week3 / "data").symlink_to(box.secret)
        return found

    monkeypatch.setattr(backup, "_listing", listing_then_swap)
    made = collect(box)
    found, _ = contents(made)
    assert "week3/anna/notebook.ipynb" not in found
    assert not [name for name in found if name.startswith("week3/anna/data")]
    assert made["handed_in"] == ["bob"]


def test_a_file_that_changes_while_read_is_listed(box, monkeypatch):
    notebook = box.students / "bob" / "week3" / "answers.ipynb"
    listing = backup._listing

    def listing_then_write(folder_fd):
        found = listing(folder_fd)
        if "answers.ipynb" in [name for name, _ in found]:
            notebook.write_text('{"cells": ["bob, later"]}')
        return found

    monkeypatch.setattr(backup, "_listing", listing_then_write)
    assert collect(box)["changed"] == ["week3/bob/answers.ipynb"]


def test_names_that_no_student_can_have_are_left_out(box):
    box.names += ["../private", "Root", ""]
    made = collect(box)
    assert made["students"] == 4


def test_no_students_folder_at_all_means_nothing_from_anyone(box):
    shutil.rmtree(box.students)
    made = collect(box)
    assert made["handed_in"] == [] and made["nothing"] == box.names


@pytest.mark.parametrize("assignment", ["", "  ", "/etc", "../anna", "week3/../../etc", ".", "!!!"])
def test_an_assignment_outside_a_students_folder_is_refused(box, assignment):
    with pytest.raises(ValueError):
        collect(box, assignment)
    assert not box.out.exists()


def test_an_assignment_name_longer_than_a_folder_name_is_refused_with_a_sentence(box):
    with pytest.raises(ValueError, match="longer than 100 characters"):
        collect(box, "w" * 300)


def hub_database(path, names):
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE users_info (username TEXT)")
        db.executemany("INSERT INTO users_info VALUES (?)", [(name,) for name in names])
        db.commit()
    return path


def test_the_command_prints_the_result_and_refuses_bad_input_in_one_line(box, capsys):
    db = hub_database(box.tmp / "jupyterhub.sqlite", ["anna", "carl"])
    arguments = ["--db", str(db), "--students-root", str(box.students), "--output-dir", str(box.out), "--box", "box1"]
    assert homework.main_collect([*arguments, "--assignment", "week3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["handed_in"] == ["anna"] and printed["nothing"] == ["carl"]
    assert homework.main_collect([*arguments, "--assignment", "/etc"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    arguments[1] = str(box.tmp / "no-database.sqlite")
    assert homework.main_collect([*arguments, "--assignment", "week3"]) == 2
    assert "no hub database" in capsys.readouterr().err
    assert not (box.tmp / "no-database.sqlite").exists()


# --- hand back ----------------------------------------------------------------


@pytest.fixture
def feedback(box):
    """The teacher's feedback for anna and bob; anna's and bob's folders belong to a student's uid."""
    source = box.tmp / "feedback"
    (source / "anna" / "comments").mkdir(parents=True)
    (source / "anna" / "notebook-marked.ipynb").write_text('{"cells": ["well done"]}')
    (source / "anna" / "comments" / "notes.md").write_text("See cell 3.\n")
    (source / "anna" / ".DS_Store").write_bytes(b"mac")
    (source / "bob").mkdir()
    (source / "bob" / "notes.md").write_text("Good.\n")
    for name in ("anna", "bob"):
        os.chown(box.students / name, STUDENT_UID, STUDENT_UID)
    return source


def hand_back(box, feedback, names=None):
    with no_longer_than(10):
        return homework.hand_back(box.students, feedback, "week3", names)


def owners_and_modes(folder):
    return {
        str(path.relative_to(folder)): (path.lstat().st_uid, path.lstat().st_gid, oct(path.lstat().st_mode & 0o777))
        for path in [folder, *folder.rglob("*")]
    }


@as_root
def test_feedback_is_written_as_the_student_and_a_second_run_changes_nothing(box, feedback):
    assert hand_back(box, feedback) == {
        "changed": ["anna", "bob"],
        "unchanged": [],
        "skipped": [],
        "refused": [],
        "failed": {},
    }
    mine = box.students / "anna" / "feedback"
    assert (mine / "week3" / "notebook-marked.ipynb").read_text() == '{"cells": ["well done"]}'
    assert (mine / "week3" / "comments" / "notes.md").read_text() == "See cell 3.\n"
    student, file = (STUDENT_UID, STUDENT_UID, "0o755"), (STUDENT_UID, STUDENT_UID, "0o644")
    assert owners_and_modes(mine) == {
        ".": student,
        "week3": student,
        "week3/comments": student,
        "week3/comments/notes.md": file,
        "week3/notebook-marked.ipynb": file,
    }
    before = {path: path.stat().st_mtime_ns for path in mine.rglob("*")}
    assert hand_back(box, feedback)["unchanged"] == ["anna", "bob"]
    assert {path: path.stat().st_mtime_ns for path in mine.rglob("*")} == before
    # new content replaces the old; nothing is left beside it
    (feedback / "bob" / "notes.md").write_text("Good. Now with a grade: A.\n")
    assert hand_back(box, feedback)["changed"] == ["bob"]
    assert (box.students / "bob" / "feedback" / "week3" / "notes.md").read_text() == "Good. Now with a grade: A.\n"
    assert os.listdir(box.students / "bob" / "feedback" / "week3") == ["notes.md"]


@as_root
def test_a_students_feedback_link_is_not_followed(box, feedback):
    """Even to a folder the student could write to: nothing lands outside the student's folder."""
    elsewhere = box.tmp / "elsewhere"
    elsewhere.mkdir()
    os.chown(elsewhere, STUDENT_UID, STUDENT_UID)
    (box.students / "anna" / "feedback").symlink_to(elsewhere)
    (box.students / "bob" / "feedback").symlink_to("/etc")
    result = hand_back(box, feedback)
    assert sorted(result["failed"]) == ["anna", "bob"]
    assert result["failed"]["anna"].startswith("feedback is not a folder")
    assert os.listdir(elsewhere) == []
    assert not (Path("/etc") / "week3").exists()


@as_root
def test_a_link_or_a_pipe_where_a_file_goes_is_replaced_never_written_through(box, feedback):
    week3 = box.students / "bob" / "feedback" / "week3"
    week3.mkdir(parents=True)
    target = box.tmp / "elsewhere.md"
    target.write_text("untouched\n")
    os.chown(target, STUDENT_UID, STUDENT_UID)
    (week3 / "notes.md").symlink_to(target)
    (box.students / "anna" / "feedback" / "week3" / "comments").mkdir(parents=True)
    os.mkfifo(box.students / "anna" / "feedback" / "week3" / "comments" / "notes.md")
    for name in ("anna", "bob"):  # what a student's process makes is theirs
        for path in (box.students / name).rglob("*"):
            os.chown(path, STUDENT_UID, STUDENT_UID, follow_symlinks=False)
    assert hand_back(box, feedback)["changed"] == ["anna", "bob"]
    assert target.read_text() == "untouched\n"
    assert not (week3 / "notes.md").is_symlink() and (week3 / "notes.md").read_text() == "Good.\n"
    assert (box.students / "anna" / "feedback" / "week3" / "comments" / "notes.md").read_text() == "See cell 3.\n"


@as_root
def test_students_with_no_folder_are_skipped_and_names_that_are_no_account_refused(box, feedback, capsys):
    for name in ("dave", "Not-A-Name", "eve"):
        (feedback / name).mkdir()
        (feedback / name / "notes.md").write_text("Hello.\n")
    (feedback / "README.txt").write_text("for the teacher\n")
    db = hub_database(box.tmp / "jupyterhub.sqlite", ["anna", "bob", "dave"])
    arguments = ["--students-root", str(box.students), "--source", str(feedback), "--assignment", "week3"]
    assert homework.main_hand_back([*arguments, "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "changed": ["anna", "bob"],
        "unchanged": [],
        "skipped": ["dave"],
        "refused": ["Not-A-Name", "README.txt", "eve"],
        "failed": {},
    }
    assert not (box.students / "dave").exists()
    assert not (box.students / "anna" / "feedback" / "week3" / ".DS_Store").exists()
    assert homework.main_hand_back([*arguments[:-1], "../week3"]) == 2


@as_root
def test_a_folder_that_belongs_to_root_gets_nothing(box, feedback):
    os.chown(box.students / "bob", 0, 0)
    result = hand_back(box, feedback)
    assert result["changed"] == ["anna"] and "belongs to root" in result["failed"]["bob"]
    assert not (box.students / "bob" / "feedback").exists()


# --- on the teacher's computer --------------------------------------------------


def test_unpack_makes_one_folder_for_the_teacher(box):
    made = collect(box)
    into = box.tmp / "collected" / Path(made["archive"]).name.removesuffix(".tar.gz")
    homework.unpack(Path(made["archive"]), into)
    assert oct(into.stat().st_mode & 0o777) == "0o700"
    assert (into / "week3" / "anna" / "notebook.ipynb").read_text() == '{"cells": ["anna"]}'
    assert (into / "week3" / "handed-in.csv").read_text().startswith("student,handed_in,file,bytes,modified")
    with pytest.raises(ValueError, match="there already"):
        homework.unpack(Path(made["archive"]), into)


@pytest.mark.parametrize("kind", ["link", "absolute", "up"])
def test_unpack_refuses_anything_but_folders_and_files_inside(box, kind):
    archive = box.tmp / "crafted.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        member = tarfile.TarInfo({"link": "week3/anna/x", "absolute": "/tmp/x", "up": "../x"}[kind])
        if kind == "link":
            member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(member, io.BytesIO(b""))
    with pytest.raises(ValueError, match="other than folders and files"):
        homework.unpack(archive, box.tmp / "collected" / "crafted")
    assert os.listdir(box.tmp / "collected") == []


def test_a_file_that_is_mostly_holes_is_left_out_and_listed(box):
    """`truncate -s 8T` makes a file of 8 TB that uses no disk: read, it would
    write terabytes of zeros into the teacher's archive, as root."""
    week3 = box.students / "bob" / "week3"
    with open(week3 / "huge.bin", "wb") as hollow:
        hollow.truncate(1 << 40)  # 1 TB of holes
    with open(week3 / "small-gap.bin", "wb") as small:
        small.truncate(1 << 20)  # 1 MB of holes: below what is worth refusing, kept
    with no_longer_than(30):
        made = collect(box)
    assert made["hollow"] == ["week3/bob/huge.bin"]
    found, rows = contents(made)
    assert "week3/bob/huge.bin" not in found
    assert found["week3/bob/small-gap.bin"] == bytes(1 << 20)
    assert found["week3/bob/answers.ipynb"] == b'{"cells": ["bob"]}'
    assert not any(row[2] == "huge.bin" for row in rows)

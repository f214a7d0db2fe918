"""Homework in, feedback back: each student's copy of an assignment folder.

collect (classbox-collect, on the box, as root) writes one archive,
homework-<assignment>-<box>-<time>.tar.gz, readable by root only:

  <assignment>/<student>/...       that student's copy of the assignment folder
  <assignment>/handed-in.csv       student,handed_in,file,bytes,modified

A student's copy of `week3` is lessons/week3 (where nbgitpuller clones the
published lessons) or else week3 in their folder; `lessons/week3` names
exactly that folder. Students' servers may be running: the walk is the
backup's (classbox/backup.py), which opens every entry without following a
link, never blocks on a pipe, and lists the files that changed while read.
Links are left out, and so are .ipynb_checkpoints folders: the teacher
unpacks the archive on their own computer, where a link would point into it.

hand_back (classbox-hand-back) copies the teacher's feedback,
<source>/<student>/..., into each student's feedback/<assignment>/. systemd
gives a student's folder to that student's dynamic user, so everything is
written as that user, by a child process that drops root inside the folder;
nothing is written through a student's link. A re-run changes nothing.

unpack (`python -m classbox.homework unpack ARCHIVE FOLDER`, standard library
only) opens a collected archive on the teacher's computer.
"""

import argparse
import contextlib
import csv
import datetime
import io
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import stat
import sys
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

from . import backup, usernames

CSV_NAME = "handed-in.csv"
CSV_COLUMNS = ["student", "handed_in", "file", "bytes", "modified"]
# Jupyter's autosaves: copies of the notebooks themselves.
LEFT_OUT = frozenset({".ipynb_checkpoints"})
# nbgitpuller clones the published lessons into this folder of each student's.
LESSONS = "lessons"
FEEDBACK = "feedback"
# How long one student's hand-back may take before root ends it.
CHILD_SECONDS = 120


MAX_ASSIGNMENT = 100  # characters: a folder's name, not a sentence (the archive's name holds it)


def assignment_parts(assignment: str) -> tuple[str, ...]:
    """The assignment's folder, relative to a student's folder, as steps; ValueError with a sentence otherwise."""
    if not isinstance(assignment, str) or not assignment.strip() or "\0" in assignment:
        raise ValueError("name the assignment: a folder in each student's folder, like week3 or lessons/week3")
    if len(assignment) > MAX_ASSIGNMENT:
        raise ValueError(f"the assignment's name is longer than {MAX_ASSIGNMENT} characters: name its folder")
    path = PurePosixPath(assignment)
    if path.is_absolute():
        raise ValueError(f"the assignment is a folder inside each student's folder, not an absolute path: {assignment}")
    if ".." in path.parts:
        raise ValueError(f"the assignment may not lead out of a student's folder ('..'): {assignment}")
    if not path.parts:
        raise ValueError(f"the assignment names no folder: {assignment}")
    return path.parts


def assignment_slug(assignment: str) -> str:
    """The assignment as one safe name for files and folders: lessons/week3 -> lessons-week3."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(assignment_parts(assignment))).strip(".-")
    if not slug:
        raise ValueError(f"the assignment needs a letter or a digit in its name: {assignment}")
    return slug


def _where(parts: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Where to look for a student's copy, first found wins."""
    return [(LESSONS, *parts), parts] if len(parts) == 1 else [parts]


def looked_in(assignment: str) -> list[str]:
    """The folders collect looks in, in each student's folder: lessons/week3 and week3 for week3."""
    return ["/".join(steps) for steps in _where(assignment_parts(assignment))]


# --- collect ----------------------------------------------------------------


@contextlib.contextmanager
def _students_root(path: Path):
    """The folder of all students' folders, or None before any student has started a server."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        fd = None
    try:
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


def _add_copy(walk: backup._FolderWalk, root_fd: int, steps: tuple[str, ...], arcname: str) -> bool:
    """Add the folder at `steps` beneath root_fd; False when a step is missing, a link or not a folder."""
    *folders, last = steps
    try:
        with backup.open_folder(root_fd, tuple(folders)) as parent_fd:
            return walk.add_folder(parent_fd, last, arcname)
    except OSError as error:
        if error.errno in backup._GONE:
            return False
        raise


def _readable(text: str) -> str:
    """A file name or message as text any page can show: bytes that are not UTF-8 become escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _modified(mtime: float) -> str:
    return datetime.datetime.fromtimestamp(mtime, datetime.UTC).astimezone().isoformat(timespec="seconds")


def _rows(name: str, members: list[tarfile.TarInfo], prefix: str) -> list[list]:
    """The CSV's rows for one student's members: one per file, or one that says nothing was handed in."""
    sizes, rows = {}, []
    for member in members:
        if member.isreg():
            sizes[member.name] = member.size
        if member.isreg() or member.islnk():  # a hard link is the same file under a second name
            size = sizes.get(member.linkname, 0) if member.islnk() else member.size
            rows.append([name, "yes", member.name.removeprefix(prefix), size, _modified(member.mtime)])
    return sorted(rows, key=lambda row: row[2]) or [[name, "no", "", "", ""]]


def _add_bytes(tar: tarfile.TarFile, arcname: str, body: bytes, when: datetime.datetime) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = len(body), 0o644, int(when.timestamp())
    tar.addfile(info, io.BytesIO(body))


def collect(students_root: Path, names, assignment: str, output_dir: Path, box: str) -> dict:
    """Write every student's copy of the assignment and handed-in.csv into one archive (0600) in output_dir."""
    parts, slug = assignment_parts(assignment), assignment_slug(assignment)
    if not box or "/" in box:
        raise ValueError(f"the box's name cannot be part of a file name: {box!r}")
    names = sorted({name for name in names if usernames.well_formed(name)})
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now().astimezone()
    archive = output_dir / f"homework-{slug}-{box}-{now:%Y%m%d-%H%M%S}.tar.gz"
    rows, changed, hollow, unreadable = [], [], [], []
    # Written in a 0700 folder beside the result, then renamed: never half an archive, never readable.
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".classbox-homework-") as scratch:
        partial = Path(scratch) / archive.name
        with tarfile.open(partial, "w:gz") as tar, _students_root(students_root) as root_fd:
            folder = tarfile.TarInfo(slug)
            folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, int(now.timestamp())
            tar.addfile(folder)
            for name in names:
                before = len(tar.getmembers())
                walk = backup._FolderWalk(tar, changed, leave_out=LEFT_OUT, links=False, hollow=hollow)
                try:
                    if root_fd is not None:
                        for steps in _where(parts):
                            if _add_copy(walk, root_fd, (name, *steps), f"{slug}/{name}"):
                                break  # the first copy found is the one handed in
                except (OSError, RecursionError) as error:
                    # One student's folder (a lease on a file, folders nested past
                    # counting) must not cost the class its collection: that
                    # student is listed as unreadable, with the reason.
                    unreadable.append(name)
                    rows.append([name, "unreadable", _readable(str(error) or type(error).__name__), "", ""])
                rows += _rows(name, tar.getmembers()[before:], f"{slug}/{name}/")
            table = io.StringIO()
            csv.writer(table).writerows([CSV_COLUMNS, *rows])
            # a file name that is not UTF-8 stays the bytes it is
            _add_bytes(tar, f"{slug}/{CSV_NAME}", table.getvalue().encode("utf-8", "surrogateescape"), now)
        os.chmod(partial, 0o600)
        os.replace(partial, archive)
    files = [row for row in rows if row[1] == "yes"]
    handed_in = sorted({row[0] for row in files})
    return {
        "archive": str(archive),
        "assignment": slug,
        "students": len(names),
        "handed_in": handed_in,
        "nothing": [name for name in names if name not in handed_in],
        "files": len(files),
        "bytes": sum(row[3] for row in files),
        "changed": [_readable(name) for name in changed],  # changed while read: perhaps incomplete
        "hollow": [_readable(name) for name in hollow],  # left out: mostly holes (backup.is_hollow)
        "unreadable": unreadable,  # students whose folder could not be read (the CSV says why)
    }


# --- hand back ----------------------------------------------------------------


def _read_feedback(folder: Path) -> list[tuple[tuple[str, ...], bytes]]:
    """Every file beneath the teacher's folder for one student, as (steps, content); no links, no hidden files."""
    found = []
    for top, folders, files in os.walk(folder):  # never into a linked folder
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            path = Path(top, name)
            # .DS_Store and the like come from the teacher's computer, not from the teacher
            if not name.startswith(".") and stat.S_ISREG(path.lstat().st_mode):
                found.append((path.relative_to(folder).parts, path.read_bytes()))
    return found


def _make_folders(steps: tuple[str, ...]) -> tuple[int, bool]:
    """The folder at `steps` beneath the current folder, opened, made (0755) where missing,
    never through a link; and whether any was made."""
    fd, made = os.open(".", backup._FOLDER), False
    try:
        for depth, step in enumerate(steps, start=1):
            try:
                os.mkdir(step, 0o755, dir_fd=fd)
                made = True
            except FileExistsError:
                pass
            try:
                inner = os.open(step, backup._FOLDER, dir_fd=fd)
            except OSError as error:
                if error.errno in backup._GONE:
                    where = "/".join(steps[:depth])
                    raise ValueError(f"{where} is not a folder (a link or a file): nothing written there") from None
                raise
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd, made


def _same_content(folder_fd: int, name: str, data: bytes) -> bool:
    """True when `name` is a plain file holding exactly `data` (a link, a pipe or a folder is not)."""
    fd = backup._open_unless_gone(folder_fd, name)
    if fd is None:
        return False
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size != len(data):
            return False  # never read a student's huge file, nor a pipe
        with open(fd, "rb", closefd=False) as stream:
            return stream.read(len(data) + 1) == data
    finally:
        os.close(fd)


def _put_file(folder_fd: int, name: str, data: bytes) -> bool:
    """Write `data` as `name` (0644) unless it is there already; True if written."""
    if _same_content(folder_fd, name, data):
        return False
    # A new name (O_EXCL: never through a link), renamed over whatever `name` is: a reader sees the old file or the new.
    partial = f".classbox-feedback-{secrets.token_hex(8)}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=folder_fd)
    try:
        with open(fd, "wb") as out:
            out.write(data)
            os.fchmod(out.fileno(), 0o644)
        os.rename(partial, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial, dir_fd=folder_fd)
        raise
    return True


def _write_feedback(folder: tuple[str, ...], files: list[tuple[tuple[str, ...], bytes]]) -> bool:
    """Put each file beneath `folder` of the current folder; True if anything changed."""
    changed = False
    for steps, data in files:
        fd, made = _make_folders(folder + steps[:-1])
        try:
            changed = _put_file(fd, steps[-1], data) or made or changed
        finally:
            os.close(fd)
    return changed


def _as_owner(folder_fd: int, owner: os.stat_result, work):
    """work(), run inside the folder by a child process that is the folder's owner, not root; returns its answer."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: it never returns
        try:
            os.close(reading)
            try:
                os.fchdir(folder_fd)
                os.setgroups([])
                os.setgid(owner.st_gid)
                os.setuid(owner.st_uid)
                os.umask(0o022)
                answer = {"answer": work()}
            except BaseException as error:  # every failure goes back to root's process, as a sentence
                answer = {"error": str(error) or type(error).__name__}
            with open(writing, "w") as out:
                json.dump(answer, out)
        finally:
            os._exit(0)
    os.close(writing)
    # The child runs as the student, whose own processes may signal it (SIGSTOP):
    # root waits for its answer a bounded time, then ends it.
    text, finished, deadline = b"", False, time.monotonic() + CHILD_SECONDS
    with open(reading, "rb") as answers:
        while not finished and (left := deadline - time.monotonic()) > 0:
            if not select.select([answers], [], [], left)[0]:
                break  # the deadline passed
            chunk = os.read(answers.fileno(), 1 << 16)
            finished = not chunk  # the child closed its end: the whole answer is here
            text += chunk
    if not finished:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        text = b""
    os.waitpid(pid, 0)
    answer = json.loads(text) if text else {"error": "the process writing as the student did not finish"}
    if "error" in answer:
        raise ValueError(answer["error"])
    return answer["answer"]


def _hand_back_one(students_root: Path, name: str, folder: tuple[str, ...], files) -> str:
    """'changed', 'unchanged' or 'skipped' (no folder yet); ValueError with a sentence when it cannot."""
    try:
        with backup.open_folder(students_root, (name,)) as fd:
            owner = os.fstat(fd)
            if owner.st_uid == 0:
                raise ValueError(f"{students_root / name} belongs to root, not to a student: nothing written")
            return "changed" if _as_owner(fd, owner, lambda: _write_feedback(folder, files)) else "unchanged"
    except FileNotFoundError:
        return "skipped"  # never started a server on this box
    except OSError as error:
        if error.errno in backup._GONE:
            raise ValueError(f"{students_root / name} is not a folder: nothing written") from None
        raise


def hand_back(students_root: Path, source_dir: Path, assignment: str, names=None) -> dict:
    """Copy source_dir/<student>/... into each student's feedback/<assignment>/, as that student.

    `names`, when given, are the accounts: other folders in source_dir are refused.
    """
    folder = (FEEDBACK, assignment_slug(assignment))
    if not source_dir.is_dir():
        raise ValueError(f"there is no folder of feedback at {source_dir}")
    result = {"changed": [], "unchanged": [], "skipped": [], "refused": [], "failed": {}}
    for entry in sorted(os.scandir(source_dir), key=lambda entry: entry.name):
        name = entry.name
        if name.startswith("."):
            continue
        if not (entry.is_dir(follow_symlinks=False) and usernames.well_formed(name)) or (
            names is not None and name not in names
        ):
            result["refused"].append(name)
            continue
        files = _read_feedback(Path(entry.path))  # as root, before anything runs as the student
        if not files:
            result["unchanged"].append(name)
            continue
        try:
            result[_hand_back_one(students_root, name, folder, files)].append(name)
        except ValueError as error:
            result["failed"][name] = str(error)
    return result


# --- on the teacher's computer ------------------------------------------------


def unpack(archive: Path, into: Path) -> Path:
    """Unpack a collected archive into the new folder `into` (0700): folders and files only, nothing outside it."""
    if os.path.lexists(into):
        raise ValueError(f"{into} is there already")
    into.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Unpacked beside it, then renamed: a folder that is there is whole.
    scratch = Path(tempfile.mkdtemp(dir=into.parent, prefix=".unpacking-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            earlier = set()
            for member in members:
                path = PurePosixPath(member.name)
                inside = not path.is_absolute() and ".." not in path.parts and str(path) == member.name
                kind = member.isdir() or member.isreg() or (member.islnk() and member.linkname in earlier)
                if not (inside and kind):
                    raise ValueError(f"{archive} holds something other than folders and files: {member.name}")
                earlier.add(member.name)
                member.mode = 0o755 if member.isdir() or member.mode & 0o100 else 0o644
            # the "data" filter, where this Python has it, checks the same again
            filtered = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(scratch, members, **filtered)
        os.rename(scratch, into)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return into


# --- command line -----------------------------------------------------------


def _run(action) -> int:
    try:
        print(json.dumps(action()))
        return 0
    except (ValueError, OSError, backup.BackupError) as error:
        print(f"{Path(sys.argv[0]).name}: {error}", file=sys.stderr)
        return 2


def _accounts(db: Path) -> list[str]:
    """The students: every account but the hub's admins (the teacher hands in nothing)."""
    if not db.is_file():
        raise ValueError(f"there is no hub database at {db}")
    with contextlib.closing(sqlite3.connect(db)) as connection:
        try:
            admins = {row[0] for row in connection.execute("SELECT name FROM users WHERE admin")}
        except sqlite3.OperationalError:  # no users table yet: nobody has logged in
            admins = set()
    return [name for name in backup.account_names(db) if name not in admins]


def main_collect(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Collect each student's copy of an assignment folder into one archive, "
        "with a CSV of who handed in what and when."
    )
    backup._common_arguments(parser)
    parser.add_argument("--assignment", required=True, help="week3 (lessons/week3 or week3), or lessons/week3")
    parser.add_argument("--output-dir", type=Path, required=True, help="where the archive goes (0700)")
    parser.add_argument("--box", default=socket.gethostname(), help="the box's name in the file name")
    args = parser.parse_args(argv)
    os.umask(0o077)  # students' files: for root's eyes only
    return _run(lambda: collect(args.students_root, _accounts(args.db), args.assignment, args.output_dir, args.box))


def main_hand_back(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Copy the teacher's feedback, SOURCE/<student>/..., into each student's "
        "feedback/<assignment>/, written as that student."
    )
    parser.add_argument(
        "--students-root", type=Path, default=Path("/var/lib/private"), help="where the accounts' folders are"
    )
    parser.add_argument("--source", type=Path, required=True, help="one folder per student, holding the feedback")
    parser.add_argument("--assignment", required=True, help="the assignment, as collected (week3)")
    parser.add_argument("--db", type=Path, help="the hub's database: only its accounts get feedback")
    args = parser.parse_args(argv)
    return _run(
        lambda: hand_back(
            args.students_root, args.source, args.assignment, _accounts(args.db) if args.db is not None else None
        )
    )


def main_unpack(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Unpack a collected archive into a new folder.")
    parser.add_argument("command", choices=["unpack"])
    parser.add_argument("archive", type=Path)
    parser.add_argument("into", type=Path, help="the folder to make (0700); it must not exist")
    args = parser.parse_args(argv)
    return _run(lambda: {"folder": str(unpack(args.archive, args.into))})


if __name__ == "__main__":
    sys.exit(main_unpack())

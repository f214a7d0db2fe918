"""Back up and restore a box: the hub's database and every account's folder.

One archive, classbox-backup-<box>-<time>.tar.gz, with a sha256sum-style
checksum file next to it, both readable by root only (they hold every
password hash):

  hub/jupyterhub.sqlite    accounts, password hashes, approvals (a consistent
                           copy, made with SQLite's backup API while the hub runs)
  students/<name>/...      each account's folder (/var/lib/private/<name>)
  manifest.json            what is inside, from which box, which files
                           changed while they were read, and which were left
                           out as mostly holes (below)

The box's own secrets (cookie secret, proxy token) stay out: a restored box
keeps its own, and students log in again.

Students' processes keep running during a backup, and a student may also hand
us a crafted archive, so neither side trusts the other's links:
- the backup opens every entry relative to its folder with O_NOFOLLOW, so a
  link swapped in during the walk is skipped, never followed by root; files
  that vanish are skipped, files that change while read are listed; a file
  that is mostly holes (`truncate -s 8T`: terabytes long, a few blocks on
  disk) is left out and listed, as reading it would write its length in zeros
  into the archive, as root, for hours;
- the restore checks every member and the manifest before it changes
  anything, creates each member inside folders it opens one step at a time
  without following links, stages everything beside where it goes, and then
  renames it all into place, or puts back what it had already moved.
A link in a student's folder comes back as the same link: it is what the
student could make anyway, and nothing the restore writes goes through it.
Restored files are owner-only (0600, 0700 if executable), folders 0700.
The playbooks (playbooks/backup.yml, restore.yml) stop and start the services.
"""

import argparse
import contextlib
import datetime
import errno
import hashlib
import io
import json
import os
import shutil
import socket
import sqlite3
import stat
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from . import usernames

FORMAT = "classbox-backup 1"
MANIFEST = "manifest.json"
DATABASE = "hub/jupyterhub.sqlite"
STUDENTS = "students"

# Entries are opened without following a link in their last step, and a pipe
# swapped in for a file does not block the open.
_NO_FOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_FOLDER = _NO_FOLLOW | os.O_DIRECTORY
# What opening an entry answers when it vanished or is no longer what was
# listed: gone, now a link, now not a folder, now a socket, not a link any more.
_GONE = frozenset({errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.ENXIO, errno.EINVAL})


class BackupError(Exception):
    """A backup that cannot be made or restored, with a sentence that says why."""


def sha256_of(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def checksum_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def is_username(name) -> bool:
    """True for a name the username rules allow; reserved names count, as the admin has a folder too."""
    return usernames.well_formed(name)


def account_names(db_path: Path) -> list[str]:
    """Every account the hub knows: signed up (NativeAuthenticator) or logged in."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        names = set()
        if "users" in tables:
            names |= {row[0] for row in db.execute("SELECT name FROM users")}
        if "users_info" in tables:
            names |= {row[0] for row in db.execute("SELECT username FROM users_info")}
    return sorted(name for name in names if is_username(name))


# --- backup -----------------------------------------------------------------


def _member(arcname: str, kind: bytes, listed: os.stat_result) -> tarfile.TarInfo:
    """A member owned by uid 0 (TarInfo's default): owners differ on the next box
    (dynamic users), and systemd hands each folder to its student again."""
    info = tarfile.TarInfo(arcname)
    info.type, info.mode, info.mtime = kind, stat.S_IMODE(listed.st_mode), int(listed.st_mtime)
    return info


def _listing(folder_fd: int) -> list[tuple[str, os.stat_result]]:
    """The entries of an open folder, as they looked when listed, in name order."""
    found = []
    with os.scandir(folder_fd) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):  # vanished while listed
                found.append((entry.name, entry.stat(follow_symlinks=False)))
    return sorted(found, key=lambda pair: pair[0])


def _open_unless_gone(folder_fd: int, name: str, flags: int = _NO_FOLLOW) -> int | None:
    """The entry opened without following a link; None when it is gone or no longer what was listed."""
    try:
        return os.open(name, flags, dir_fd=folder_fd)
    except OSError as error:
        if error.errno in _GONE:
            return None
        raise


# A file longer than this that uses less than half its length on disk is
# mostly holes; below it, reading the zeros costs nothing worth refusing.
HOLLOW_MIN_BYTES = 64 * 1024 * 1024


def is_hollow(status: os.stat_result) -> bool:
    """True for a file that is mostly holes: long, with few blocks written."""
    return status.st_size > HOLLOW_MIN_BYTES and status.st_blocks * 512 < status.st_size // 2


def _version(status: os.stat_result) -> tuple[int, int, int]:
    return status.st_ino, status.st_size, status.st_mtime_ns


class _PaddedReader:
    """Exactly `size` bytes of a file: zeros stand in for what was cut off after
    it was listed, so that one shrinking file cannot abort the whole backup."""

    def __init__(self, stream, size: int):
        self.stream, self.left, self.short = stream, size, False

    def read(self, wanted: int) -> bytes:
        wanted = min(wanted, self.left)
        data = self.stream.read(wanted)
        if len(data) < wanted:
            self.short = True
            data += bytes(wanted - len(data))
        self.left -= wanted
        return data


class _FolderWalk:
    """One student's folder into the archive. Every entry is opened relative to
    its folder's descriptor with O_NOFOLLOW, so a link that a student's process
    swaps in while the walk runs is skipped, never followed by root."""

    def __init__(
        self,
        tar: tarfile.TarFile,
        changed: list[str],
        leave_out: frozenset[str] = frozenset(),
        links: bool = True,
        hollow: list[str] | None = None,
    ):
        self.tar = tar
        self.changed = changed  # files that changed between their listing and the end of their read
        self.hollow = [] if hollow is None else hollow  # files left out as mostly holes (is_hollow)
        self.leave_out = leave_out  # names of folders not walked (homework: .ipynb_checkpoints)
        self.links = links  # homework leaves links out: the teacher unpacks it on their own computer
        self.first_names: dict[tuple[int, int], str] = {}  # hard links, within this folder only

    def add_folder(self, parent_fd: int, name: str, arcname: str) -> bool:
        """False when the folder is gone or is no longer a folder."""
        fd = _open_unless_gone(parent_fd, name, _FOLDER)
        if fd is None:
            return False
        try:
            self.tar.addfile(_member(arcname, tarfile.DIRTYPE, os.fstat(fd)))
            for entry, listed in _listing(fd):
                self._add_entry(fd, entry, listed, f"{arcname}/{entry}")
        finally:
            os.close(fd)
        return True

    def _add_entry(self, folder_fd: int, name: str, listed: os.stat_result, arcname: str) -> None:
        if stat.S_ISDIR(listed.st_mode):
            if name not in self.leave_out:
                self.add_folder(folder_fd, name, arcname)
        elif stat.S_ISREG(listed.st_mode):
            self._add_file(folder_fd, name, listed, arcname)
        elif stat.S_ISLNK(listed.st_mode) and self.links:
            self._add_link(folder_fd, name, listed, arcname)
        # pipes and sockets mean nothing on another box

    def _add_link(self, folder_fd: int, name: str, listed: os.stat_result, arcname: str) -> None:
        try:
            target = os.readlink(name, dir_fd=folder_fd)
        except OSError as error:
            if error.errno in _GONE:
                return
            raise
        info = _member(arcname, tarfile.SYMTYPE, listed)
        info.linkname = target
        self.tar.addfile(info)

    def _add_file(self, folder_fd: int, name: str, listed: os.stat_result, arcname: str) -> None:
        if is_hollow(listed):  # (what is read is the listed length: a file made long later is cut there)
            self.hollow.append(arcname)
            return
        inode = (listed.st_dev, listed.st_ino)
        if listed.st_nlink > 1 and inode in self.first_names:
            info = _member(arcname, tarfile.LNKTYPE, listed)
            info.linkname = self.first_names[inode]
            self.tar.addfile(info)
            return
        fd = _open_unless_gone(folder_fd, name)
        if fd is None:
            return
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)  # swapped for a pipe or a folder since it was listed (open() refuses a folder)
            return
        with open(fd, "rb") as stream:
            info = _member(arcname, tarfile.REGTYPE, listed)
            info.size = listed.st_size
            reader = _PaddedReader(stream, listed.st_size)
            self.tar.addfile(info, reader)
            after = os.fstat(fd)
        if reader.short or _version(after) != _version(listed):
            self.changed.append(arcname)
        if listed.st_nlink > 1:
            self.first_names[inode] = arcname


def _add_folders(tar: tarfile.TarFile, students_root: Path, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Add each account's folder; returns the folders added, the files that
    changed while read, and those left out as mostly holes."""
    changed: list[str] = []
    hollow: list[str] = []
    try:
        root_fd = os.open(students_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return [], changed, hollow  # no student has started a server yet
    try:
        folders = [
            name
            for name in names
            if _FolderWalk(tar, changed, hollow=hollow).add_folder(root_fd, name, f"{STUDENTS}/{name}")
        ]
    finally:
        os.close(root_fd)
    return folders, changed, hollow


def make_backup(db_path: Path, students_root: Path, output_dir: Path, box: str) -> dict:
    """Write the archive and its checksum into output_dir, both 0600; returns the manifest."""
    if not db_path.is_file():
        raise BackupError(f"there is no hub database at {db_path}")
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now().astimezone()
    archive = output_dir / f"classbox-backup-{box}-{now:%Y%m%d-%H%M%S}.tar.gz"
    # Written in a 0700 folder beside the result, then renamed: never half a backup, never readable.
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".classbox-backup-") as scratch:
        copy = Path(scratch) / "jupyterhub.sqlite"
        with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as source:
            with contextlib.closing(sqlite3.connect(copy)) as target:
                source.backup(target)
        names = account_names(copy)
        partial = Path(scratch) / archive.name
        with tarfile.open(partial, "w:gz") as tar:
            with open(copy, "rb") as stream:
                status = os.fstat(stream.fileno())
                info = _member(DATABASE, tarfile.REGTYPE, status)
                info.size = status.st_size
                tar.addfile(info, stream)
            folders, changed, hollow = _add_folders(tar, students_root, names)
            manifest = {
                "format": FORMAT,
                "box": box,
                "created": now.isoformat(timespec="seconds"),
                "accounts": names,
                "folders": folders,
                "changed": changed,
                "hollow": hollow,
            }
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(now.timestamp())
            tar.addfile(info, io.BytesIO(body))
        checksum = Path(scratch) / "checksum"
        checksum.write_text(f"{sha256_of(partial)}  {archive.name}\n")
        for path in (partial, checksum):
            os.chmod(path, 0o600)
        os.replace(partial, archive)
        os.replace(checksum, checksum_path(archive))
    return {**manifest, "archive": str(archive), "bytes": archive.stat().st_size}


# --- checking an archive ----------------------------------------------------


def _check_checksum(archive: Path) -> None:
    if not archive.is_file():
        raise BackupError(f"there is no backup at {archive}")
    checksum = checksum_path(archive)
    if not checksum.is_file():
        raise BackupError(f"the checksum file {checksum} is missing: copy it along with the backup")
    expected = checksum.read_text().split()[0] if checksum.read_text().strip() else ""
    if sha256_of(archive) != expected:
        raise BackupError(f"{archive} does not match its checksum: the copy is damaged or incomplete")


def _read_archive(archive: Path) -> tuple[dict, list[tarfile.TarInfo]]:
    """The manifest and every member, in one pass (the manifest comes last)."""
    manifest, members = None, []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name == MANIFEST and member.isfile() and manifest is None:
                    manifest = json.load(tar.extractfile(member))
                members.append(member)
    except (tarfile.TarError, OSError, ValueError) as error:
        raise BackupError(f"{archive} cannot be read: {error}") from error
    if manifest is None:
        raise BackupError(f"{archive} is not a classbox backup (no manifest)")
    return manifest, members


def _check_manifest(manifest) -> None:
    """Every name the restore will turn into a path is a username."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(f"this is a backup format this box does not know: {found}")
    for key in ("box", "created"):
        if not isinstance(manifest.get(key), str):
            raise BackupError(f"the manifest has no {key}")
    for key in ("accounts", "folders"):
        names = manifest.get(key)
        if not isinstance(names, list):
            raise BackupError(f"the manifest has no list of {key}")
        for name in names:
            if not is_username(name):
                raise BackupError(f"the manifest lists {key} under a name no student can have: {name!r}")
        if len(set(names)) != len(names):
            raise BackupError(f"the manifest lists {key} under the same name twice")


def _check_member(member: tarfile.TarInfo, earlier: dict[str, tarfile.TarInfo], folders: list[str]) -> None:
    """Refuse a member that could land anywhere but in a folder the manifest lists."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"the archive holds a path outside the box's folders: {member.name}")
    if str(path) != member.name:
        raise BackupError(f"the archive holds a path in an unusual form: {member.name!r}")
    if member.name in earlier:
        raise BackupError(f"the archive holds {member.name} twice")
    if member.name in (MANIFEST, DATABASE):
        if not member.isfile():
            raise BackupError(f"{member.name} in the archive is not a file")
        return
    if len(path.parts) < 2 or path.parts[0] != STUDENTS:
        raise BackupError(f"the archive holds an unexpected file: {member.name}")
    if not is_username(path.parts[1]):
        raise BackupError(f"the archive holds a folder for an impossible username: {path.parts[1]}")
    if path.parts[1] not in folders:
        raise BackupError(f"the archive holds a folder its manifest does not list: {path.parts[1]}")
    if len(path.parts) == 2:
        if not member.isdir():
            raise BackupError(f"the archive holds {member.name} as a link or a file, not a folder")
        return
    parent = earlier.get(str(path.parent))
    if parent is None or not parent.isdir():
        raise BackupError(f"the archive writes through a link or into no folder: {member.name}")
    if member.islnk():
        target = earlier.get(member.linkname)
        same_folder = PurePosixPath(member.linkname).parts[:2] == path.parts[:2]
        if target is None or not target.isfile() or not same_folder:
            raise BackupError(f"the archive links outside a student's folder: {member.name}")
    elif not (member.isfile() or member.isdir() or member.issym()):
        raise BackupError(f"the archive holds a device or pipe: {member.name}")


def check_backup(archive: Path) -> tuple[dict, list[tarfile.TarInfo]]:
    """The manifest and the members of a complete, intact, well-formed archive; BackupError otherwise."""
    _check_checksum(archive)
    manifest, members = _read_archive(archive)
    _check_manifest(manifest)
    earlier: dict[str, tarfile.TarInfo] = {}
    for member in members:
        _check_member(member, earlier, manifest["folders"])
        earlier[member.name] = member
    if DATABASE not in earlier:
        raise BackupError(f"{archive} is not a classbox backup (no database)")
    for name in manifest["folders"]:
        if f"{STUDENTS}/{name}" not in earlier:
            raise BackupError(f"the manifest lists a folder the archive does not hold: {name}")
    return manifest, members


# --- restore ----------------------------------------------------------------


@contextlib.contextmanager
def open_folder(top: Path | int, parts: tuple[str, ...] = ()):
    """A folder beneath `top` (a path or a descriptor), opened one step at a time,
    each step refusing to follow a link."""
    fd = os.open(top, _FOLDER) if isinstance(top, Path) else os.dup(top)
    try:
        for part in parts:
            inner = os.open(part, _FOLDER, dir_fd=fd)
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, folder_fd: int, name: str) -> None:
    """A new file (O_EXCL, so never through a link), owner-only, executable if it was."""
    mode = 0o700 if member.mode & 0o100 else 0o600
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(name, flags, mode, dir_fd=folder_fd)
    with open(fd, "wb") as out:
        shutil.copyfileobj(tar.extractfile(member), out)
        out.flush()
        os.utime(fd, (member.mtime, member.mtime))


def _unpack_member(tar: tarfile.TarFile, member: tarfile.TarInfo, top_fd: int) -> None:
    *folder, name = PurePosixPath(member.name).parts
    with open_folder(top_fd, tuple(folder)) as folder_fd:
        if member.isdir():
            os.mkdir(name, 0o700, dir_fd=folder_fd)
        elif member.issym():
            os.symlink(member.linkname, name, dir_fd=folder_fd)
        elif member.islnk():
            *source_folder, source = PurePosixPath(member.linkname).parts
            with open_folder(top_fd, tuple(source_folder)) as source_fd:
                os.link(source, name, src_dir_fd=source_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
        else:
            _write_file(tar, member, folder_fd, name)


def _stage(archive: Path, members: list[tarfile.TarInfo], folders_stage: Path, db_stage: Path) -> Path:
    """Unpack the folders into folders_stage and the database into db_stage; returns the staged database."""
    os.mkdir(folders_stage / STUDENTS, 0o700)
    database = next(member for member in members if member.name == DATABASE)
    staged_db = db_stage / "jupyterhub.sqlite"
    with tarfile.open(archive, "r:gz") as tar:
        with open_folder(folders_stage) as folders_fd:
            for member in members:
                if member.name.startswith(f"{STUDENTS}/"):
                    _unpack_member(tar, member, folders_fd)
        with open_folder(db_stage) as db_fd:
            _write_file(tar, database, db_fd, staged_db.name)
    os.chmod(staged_db, 0o600)
    with contextlib.closing(sqlite3.connect(staged_db)) as db:
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("the backup's database is damaged")
        db.execute("PRAGMA journal_mode=WAL")
    return staged_db


def _moves_into_place(
    folders: list[str], folders_stage: Path, students_root: Path, staged_db: Path, db_path: Path, stamp: str
) -> list[tuple[Path, Path]]:
    """The renames that put each staged copy in place, each after setting aside what it replaces."""
    moves = []
    for name in folders:
        target = students_root / name
        if os.path.lexists(target):
            moves.append((target, target.with_name(f"{name}.before-restore-{stamp}")))
        moves.append((folders_stage / STUDENTS / name, target))
    kept_db = f"{db_path}.before-restore-{stamp}"
    for suffix in ("", "-wal", "-shm"):  # SQLite finds a database's journal by its name
        if os.path.lexists(f"{db_path}{suffix}"):
            moves.append((Path(f"{db_path}{suffix}"), Path(f"{kept_db}{suffix}")))
    moves.append((staged_db, db_path))
    return moves


def _move_all_or_nothing(moves: list[tuple[Path, Path]]) -> None:
    """Rename each (source, destination) in turn; on a failure, rename back what was moved."""
    done = []
    try:
        for source, destination in moves:
            if os.path.lexists(destination):  # a kept copy from a restore in the same second
                raise FileExistsError(errno.EEXIST, "already there", str(destination))
            os.rename(source, destination)
            done.append((source, destination))
    except OSError as error:
        for source, destination in reversed(done):
            os.rename(destination, source)
        raise BackupError(f"the restore failed and put everything back as it was: {error}") from error


def restore_backup(archive: Path, db_path: Path, students_root: Path) -> dict:
    """Put the archive's database and folders in place, all or nothing. The hub must be stopped."""
    manifest, members = check_backup(archive)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    students_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Staged beside where each goes (the same file system), so that moving in is a rename.
    with (
        tempfile.TemporaryDirectory(dir=students_root, prefix=".restore-") as folders_stage,
        tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".restore-") as db_stage,
    ):
        try:
            staged_db = _stage(archive, members, Path(folders_stage), Path(db_stage))
        except (OSError, tarfile.TarError, sqlite3.DatabaseError) as error:
            raise BackupError(f"the restore stopped before changing anything: {error}") from error
        _move_all_or_nothing(
            _moves_into_place(manifest["folders"], Path(folders_stage), students_root, staged_db, db_path, stamp)
        )
    return {
        "archive": str(archive),
        "box": manifest["box"],
        "created": manifest["created"],
        "accounts": manifest["accounts"],
        "folders": manifest["folders"],
    }


# --- command line -----------------------------------------------------------


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, default=Path("/var/lib/jupyterhub/jupyterhub.sqlite"), help="the hub's SQLite database"
    )
    parser.add_argument(
        "--students-root", type=Path, default=Path("/var/lib/private"), help="where the accounts' folders are"
    )


def _run(action) -> int:
    try:
        print(json.dumps(action()))
        return 0
    except BackupError as error:
        print(f"{Path(sys.argv[0]).name}: {error}", file=sys.stderr)
        return 2


def main_backup(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Back up the hub's database and every account's folder.")
    _common_arguments(parser)
    parser.add_argument("--output-dir", type=Path, required=True, help="where the archive goes")
    parser.add_argument("--box", default=socket.gethostname(), help="the box's name in the file name")
    args = parser.parse_args(argv)
    os.umask(0o077)  # accounts' hashes and students' files: for root's eyes only
    return _run(lambda: make_backup(args.db, args.students_root, args.output_dir, args.box))


def main_restore(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Restore a classbox backup (the hub must be stopped).")
    _common_arguments(parser)
    parser.add_argument("archive", type=Path)
    parser.add_argument("--check", action="store_true", help="only check the archive; change nothing")
    args = parser.parse_args(argv)
    if args.check:
        return _run(lambda: check_backup(args.archive)[0])
    return _run(lambda: restore_backup(args.archive, args.db, args.students_root))

"""Back up and restore a box: the hub's database and every account's folder.

One archive, classbox-backup-<box>-<time>.tar.gz, with a sha256sum-style
checksum file next to it:

  manifest.json            what is inside, and from which box
  hub/jupyterhub.sqlite    accounts, password hashes, approvals (a consistent
                           copy, made with SQLite's backup API while the hub runs)
  students/<name>/...      each account's folder (/var/lib/private/<name>)

The box's own secrets (cookie secret, proxy token) stay out: a restored box
keeps its own, and students log in again. A restore checks the whole archive
before it changes anything, and keeps what it replaces (`*.before-restore-*`).
The playbooks (playbooks/backup.yml, restore.yml) stop and start the services.
"""

import argparse
import contextlib
import datetime
import hashlib
import io
import json
import os
import shutil
import socket
import sqlite3
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from . import usernames

FORMAT = "classbox-backup 1"
MANIFEST = "manifest.json"
DATABASE = "hub/jupyterhub.sqlite"
STUDENTS = "students"


class BackupError(Exception):
    """A backup that cannot be made or restored, with a sentence that says why."""


def sha256_of(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def checksum_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def account_names(db_path: Path) -> list[str]:
    """Every account the hub knows: signed up (NativeAuthenticator) or logged in."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        names = set()
        if "users" in tables:
            names |= {row[0] for row in db.execute("SELECT name FROM users")}
        if "users_info" in tables:
            names |= {row[0] for row in db.execute("SELECT username FROM users_info")}
    return sorted(name for name in names if usernames.PATTERN.fullmatch(name))


def _portable(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Files, folders and links only, owned by root in the archive."""
    if not (info.isfile() or info.isdir() or info.issym() or info.islnk()):
        return None  # pipes and devices mean nothing on another box
    # Owners on the next box differ (dynamic users): systemd hands each
    # folder to its student again when their server starts.
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def make_backup(db_path: Path, students_root: Path, output_dir: Path, box: str) -> dict:
    """Write the archive and its checksum into output_dir; returns the manifest."""
    if not db_path.is_file():
        raise BackupError(f"there is no hub database at {db_path}")
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = output_dir / f"classbox-backup-{box}-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".classbox-backup-") as scratch:
        copy = Path(scratch) / "jupyterhub.sqlite"
        with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as source:
            with contextlib.closing(sqlite3.connect(copy)) as target:
                source.backup(target)
        names = account_names(copy)
        folders = [name for name in names if (students_root / name).is_dir()]
        manifest = {
            "format": FORMAT,
            "box": box,
            "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "accounts": names,
            "folders": folders,
        }
        partial = Path(scratch) / archive.name
        with tarfile.open(partial, "w:gz") as tar:
            body = json.dumps(manifest, indent=2).encode()
            info = _portable(tarfile.TarInfo(MANIFEST))
            info.size, info.mtime = len(body), int(datetime.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(body))
            tar.add(copy, arcname=DATABASE, filter=_portable)
            for name in folders:
                tar.add(students_root / name, arcname=f"{STUDENTS}/{name}", filter=_portable)
        os.replace(partial, archive)
    checksum_path(archive).write_text(f"{sha256_of(archive)}  {archive.name}\n")
    return {**manifest, "archive": str(archive), "bytes": archive.stat().st_size}


def _check_member(member: tarfile.TarInfo, links: set[str]) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"the archive holds a path outside the box's folders: {member.name}")
    if member.name in (MANIFEST, DATABASE):
        if not member.isfile():
            raise BackupError(f"{member.name} in the archive is not a file")
        return
    if len(path.parts) < 2 or path.parts[0] != STUDENTS:
        raise BackupError(f"the archive holds an unexpected file: {member.name}")
    if not usernames.PATTERN.fullmatch(path.parts[1]):
        raise BackupError(f"the archive holds a folder for an impossible username: {path.parts[1]}")
    for depth in range(2, len(path.parts)):
        if str(PurePosixPath(*path.parts[:depth])) in links:
            raise BackupError(f"the archive writes through a link: {member.name}")
    if member.issym():
        links.add(member.name)
    elif member.islnk():
        target = PurePosixPath(member.linkname)
        if target.parts[:2] != path.parts[:2] or ".." in target.parts:
            raise BackupError(f"the archive links outside a student's folder: {member.name}")
    elif not (member.isfile() or member.isdir()):
        raise BackupError(f"the archive holds a device or pipe: {member.name}")


def check_backup(archive: Path) -> tuple[dict, list[tarfile.TarInfo]]:
    """The manifest and the members of a complete, intact archive; BackupError otherwise."""
    if not archive.is_file():
        raise BackupError(f"there is no backup at {archive}")
    checksum = checksum_path(archive)
    if not checksum.is_file():
        raise BackupError(f"the checksum file {checksum} is missing: copy it along with the backup")
    expected = checksum.read_text().split()[0] if checksum.read_text().strip() else ""
    if sha256_of(archive) != expected:
        raise BackupError(f"{archive} does not match its checksum: the copy is damaged or incomplete")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            names = {member.name for member in members}
            if MANIFEST not in names or DATABASE not in names:
                raise BackupError(f"{archive} is not a classbox backup (no manifest or database)")
            manifest = json.load(tar.extractfile(MANIFEST))
    except (tarfile.TarError, OSError, ValueError) as error:
        raise BackupError(f"{archive} cannot be read: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is a backup format this box does not know: {manifest.get('format')}")
    links: set[str] = set()
    for member in members:
        _check_member(member, links)
    return manifest, members


def _set_aside(path: Path, stamp: str) -> None:
    if path.exists() or path.is_symlink():
        os.replace(path, path.with_name(f"{path.name}.before-restore-{stamp}"))


def restore_backup(archive: Path, db_path: Path, students_root: Path) -> dict:
    """Put the archive's database and folders in place. The hub must be stopped."""
    manifest, members = check_backup(archive)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    students_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Unpacked next to where it goes (same file system), then moved in place.
    with tempfile.TemporaryDirectory(dir=students_root, prefix=".restore-") as scratch:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(scratch, members=members)
        unpacked = Path(scratch)
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        _set_aside(db_path, stamp)
        shutil.move(unpacked / DATABASE, db_path)
        os.chmod(db_path, 0o600)
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            db.execute("PRAGMA journal_mode=WAL")
        for name in manifest["folders"]:
            target = students_root / name
            _set_aside(target, stamp)
            os.replace(unpacked / STUDENTS / name, target)
            os.chmod(target, 0o700)
    return {"archive": str(archive), "box": manifest["box"], "created": manifest["created"],
            "accounts": manifest["accounts"], "folders": manifest["folders"]}


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=Path("/var/lib/jupyterhub/jupyterhub.sqlite"),
                        help="the hub's SQLite database")
    parser.add_argument("--students-root", type=Path, default=Path("/var/lib/private"),
                        help="where the accounts' folders are")


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

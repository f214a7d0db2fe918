"""The hub's state on the box: its secrets, and its database's journal mode.

The jupyterhub role runs this with the hub venv's python, once the package is
installed there:

    python -m classbox.state secret FILE [--prefix PREFIX]
    python -m classbox.state wal DATABASE

Each command prints "changed" when it changed something and nothing otherwise,
for Ansible's changed_when. Everything it writes is readable by root only.
"""

import argparse
import os
import secrets
import sqlite3
import sys
from pathlib import Path


def write_secret(path: Path, prefix: str = "", suffix: str = "") -> bool:
    """Write prefix + 64 random hex digits + suffix to path, unless it exists; True if written.

    Made on the box, never copied from anywhere: no two boxes share a secret, and
    an existing one is kept (students stay logged in across runs).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as out:
        out.write(prefix + secrets.token_hex(32) + suffix + "\n")
    return True


def use_wal(database: Path) -> bool:
    """Put the SQLite database in write-ahead-log mode (made if missing, 0600); True if it changed.

    One disk sync per change instead of several: logins commit faster while a
    class starts. The mode is stored in the database file itself.
    """
    old_umask = os.umask(0o077)
    try:
        db = sqlite3.connect(database, timeout=30)
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return False
            db.execute("PRAGMA journal_mode=WAL")
            return True
        finally:
            db.close()
    finally:
        os.umask(old_umask)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classbox.state", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    secret = commands.add_parser("secret", help="write a new secret to FILE unless it exists")
    secret.add_argument("file", type=Path)
    secret.add_argument("--prefix", default="", help="written before the secret (like NAME=)")
    secret.add_argument("--suffix", default="", help="written after the secret")
    wal = commands.add_parser("wal", help="keep the hub's database in write-ahead-log mode")
    wal.add_argument("database", type=Path)
    args = parser.parse_args(argv)
    if args.command == "secret":
        changed = write_secret(args.file, args.prefix, args.suffix)
    else:
        changed = use_wal(args.database)
    if changed:
        print("changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

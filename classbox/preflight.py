#!/usr/bin/python3
"""Which admins named in the inventory are students on this box already.

The playbook's preflight runs this file with the box's own python3 before
anything changes (in check mode too, and before the hub's venv exists), so it
uses the standard library only and opens the hub's database read-only. A name
that signed up as a student (a password in users_info) or that the hub knows
as a user who is not an admin would be promoted silently: giving it the
inventory's password and admin rights takes over a student's account, so the
playbook refuses instead. Admins that a previous run made stay admins (the hub
keeps users.admin), and a box with no hub yet has no students.

    python3 preflight.py --db /var/lib/jupyterhub/jupyterhub.sqlite NAME...

prints those names, one a line, and exits 0; 2 when the database cannot be read.
"""

import argparse
import os
import sqlite3
import sys


def _tables(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def students_among(db_path: str, names) -> list[str]:
    """The names, in their order, that are accounts on the box without admin rights."""
    if not os.path.exists(db_path):
        return []
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        tables = _tables(db)
        with_password = set()
        if "users_info" in tables:
            with_password = {row[0] for row in db.execute("SELECT username FROM users_info")}
        hub_users = {}
        if "users" in tables:
            hub_users = {name: bool(admin) for name, admin in db.execute("SELECT name, admin FROM users")}
    finally:
        db.close()
    return [
        name
        for name in dict.fromkeys(names)
        if (name in with_password or name in hub_users) and not hub_users.get(name, False)
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="path of the hub's SQLite database")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    try:
        found = students_among(args.db, args.names)
    except sqlite3.Error as error:
        print(f"classbox preflight: cannot read {args.db}: {error}", file=sys.stderr)
        return 2
    for name in found:
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

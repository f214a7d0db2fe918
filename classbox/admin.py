"""Create or update an admin account's password in the hub's database.

The playbook runs this on the box with the password on standard input, so that
the admin account exists before any student could sign up under its name, and
so that a new password in the inventory takes effect. It prints "changed" or
"unchanged" for Ansible and exits 2 with a message on bad input.
"""

import argparse
import sys

from nativeauthenticator.orm import UserInfo
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from . import passwords


def change_password(db_url: str, username: str, password: str) -> bool:
    """Make `username` an approved account with `password`; True if anything changed."""
    engine = create_engine(db_url)
    UserInfo.__table__.create(engine, checkfirst=True)
    with Session(engine) as db:
        info = db.query(UserInfo).filter(UserInfo.username == username).first()
        if info is not None and info.is_authorized and passwords.check_password(password, info.password):
            return False
        if info is None:
            info = UserInfo(username=username, password=b"")
            db.add(info)
        info.password = passwords.hash_password(password)
        info.is_authorized = True
        db.commit()
        return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True, help="SQLAlchemy URL of the hub database")
    parser.add_argument("--username", required=True)
    args = parser.parse_args(argv)
    password = sys.stdin.read().rstrip("\n")
    if not password:
        print("classbox-admin: no password on standard input", file=sys.stderr)
        return 2
    if passwords.too_long(password):
        print(
            f"classbox-admin: the password is longer than {passwords.MAX_BYTES} bytes",
            file=sys.stderr,
        )
        return 2
    changed = change_password(args.db_url, args.username, password)
    print("changed" if changed else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What an upgrade must keep, read from the box the same way before and after:
the hub's secrets (as sha256), its accounts (password hashes and approval
included) and the student's file. molecule/upgrade records it once the first
release has provisioned the box (tests.upgrade.before); the tests compare."""

import json
import os
import subprocess
from pathlib import Path

STATE_DIR = "/var/lib/jupyterhub"
SECRETS = (f"{STATE_DIR}/jupyterhub_cookie_secret", f"{STATE_DIR}/proxy.env")
# A student with a file and a running notebook, and one the teacher blocked.
STUDENT = "upgrader"
BLOCKED = "blocked"
PASSWORD = "upgrade-koala-42"
FILE = f"/var/lib/private/{STUDENT}/kept.txt"
CONTENT = "written under the first release"
SERVER_UNIT = f"jupyter-{STUDENT}-singleuser.service"

_ROWS = """
import json, sqlite3
db = sqlite3.connect("file:/var/lib/jupyterhub/jupyterhub.sqlite?mode=ro", uri=True)
print(json.dumps({
    "users": db.execute("SELECT name, admin FROM users ORDER BY name").fetchall(),
    "users_info": db.execute(
        "SELECT username, hex(password), is_authorized FROM users_info ORDER BY username").fetchall(),
}))
"""


def record_path():
    """Where the record lives between molecule's prepare and verify steps."""
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "upgrade-record.json"


def on_box(container, *argv):
    return subprocess.run(
        ["docker", "exec", container, *argv], check=True, capture_output=True, text=True
    ).stdout.strip()


def box_state(container):
    """The box's secrets, accounts and the student's file, as plain data."""
    digests = on_box(container, "sha256sum", *SECRETS).splitlines()
    return {
        "secrets": {path: digest for digest, path in (line.split() for line in digests)},
        **{
            key: [list(row) for row in rows]
            for key, rows in json.loads(on_box(container, "python3", "-c", _ROWS)).items()
        },
        "file": {
            "content": on_box(container, "cat", FILE),
            "mode": on_box(container, "stat", "-c", "%a", FILE),
        },
    }

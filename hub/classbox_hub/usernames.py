"""Which names a student may sign up with, and why a name is refused.

A student's name becomes a systemd unit name (jupyter-<name>-singleuser) and a
StateDirectory (/var/lib/private/<name>, reached through the link
/var/lib/<name>). systemd moves an existing /var/lib/<name> that is a real
directory into private/ and hands it to the student's dynamic user, so a
student called "dpkg" or "jupyterhub" would take over that state: such names
are refused.
"""

import os
import re

MAX_LENGTH = 32
PATTERN = re.compile(r"[a-z][a-z0-9_-]*")
RULE = (
    "A username starts with a letter and uses only lowercase letters a-z, "
    f"digits 0-9, '-' and '_', at most {MAX_LENGTH} characters."
)

# Names that mean something to the box or to JupyterHub's URLs.
ALWAYS_RESERVED = frozenset(
    {
        "root",
        "admin",
        "administrator",
        "hub",
        "jupyterhub",
        "jupyter",
        "private",
        "nobody",
        "user",
        "users",
        "api",
        "services",
        "teacher",
    }
)


def normalize(name: str) -> str:
    """The name as stored: surrounding white space removed, lowercase."""
    return name.strip().lower()


def problem(name: str, reserved=frozenset(), state_root: str = "/var/lib") -> str | None:
    """Why `name` (already normalized) cannot be a student's name, or None."""
    if not name:
        return "Please choose a username."
    if len(name) > MAX_LENGTH:
        return f"That username is too long. {RULE}"
    if not PATTERN.fullmatch(name):
        return f"That username has characters the box cannot use. {RULE}"
    if name in ALWAYS_RESERVED or name in reserved:
        return "That username is reserved. Please choose another one."
    if _state_path_taken(name, state_root):
        return "That username is used by the system. Please choose another one."
    return None


def _state_path_taken(name: str, state_root: str) -> bool:
    """True when /var/lib/<name> exists and is not this student's own link."""
    path = os.path.join(state_root, name)
    if not os.path.lexists(path):
        return False
    return not (os.path.islink(path) and os.readlink(path) == os.path.join("private", name))

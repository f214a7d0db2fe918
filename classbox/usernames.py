"""Which names a student may sign up with, and why a name is refused.

A student's name becomes a systemd unit name (jupyter-<name>-singleuser) and a
StateDirectory (/var/lib/private/<name>, reached through the link
/var/lib/<name>). systemd moves an existing /var/lib/<name> that is a real
directory into private/ and hands it to the student's dynamic user, so a
student called "dpkg" or "jupyterhub" would take over that state: such names
are refused.

Deleting an account leaves that folder (and the link) behind, and a new
student signing up with the name would get the old student's files: such names
are refused too, until the teacher deletes the account with its files.

This module is the one place that says what a username may be: the signup
page shows RULE, backup and restore accept the names `well_formed` accepts, and
the playbook's preflight checks the admins named in the inventory with it, on
the machine that runs Ansible (standard library only, nothing to install):

    python3 -m classbox.usernames --admins --min-password-length 8 < admins.json

reads [{"username": ..., "password": ...}, ...] (passwords never go on a
command line), prints one sentence for each admin account that cannot be made,
never a password, and exits 1 if there is any.
"""

import argparse
import json
import os
import re
import shutil
import stat
import sys

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
        # systemd's own services keep DynamicUser state in /var/lib/private/systemd
        "systemd",
    }
)


def normalize(name: str) -> str:
    """The name as stored: surrounding white space removed, lowercase."""
    return name.strip().lower()


def form_problem(name: str) -> str | None:
    """Why `name` (already normalized) breaks RULE, or None. A new rule goes here and in RULE."""
    if not name:
        return "Please choose a username."
    if len(name) > MAX_LENGTH:
        return f"That username is too long. {RULE}"
    if not PATTERN.fullmatch(name):
        return f"That username has characters the box cannot use. {RULE}"
    return None


def well_formed(name) -> bool:
    """True for a name RULE allows; reserved names and names taken on the box count."""
    return isinstance(name, str) and form_problem(name) is None


def problem(name: str, reserved=frozenset(), state_root: str = "/var/lib") -> str | None:
    """Why `name` (already normalized) cannot be a student's name, or None."""
    if form_problem(name):
        return form_problem(name)
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


def _state_paths(name: str, state_root: str) -> tuple[str, str]:
    """The student's folder and systemd's link to it: /var/lib/private/<name>, /var/lib/<name>."""
    return os.path.join(state_root, "private", name), os.path.join(state_root, name)


def has_leftover_folder(name: str, state_root: str = "/var/lib") -> bool:
    """True when a folder or link for `name` (a valid name) is on the box."""
    return any(os.path.lexists(path) for path in _state_paths(name, state_root))


def folder_removal_problem(name: str, reserved=frozenset(), state_root: str = "/var/lib") -> str | None:
    """Why the box will not delete `name`'s folder, as a sentence, or None.

    Only the exact folder of a valid student's name, as systemd made it: a real
    directory in private/ and a link to it, never anything a link points to.
    """
    refusal = f"The box does not delete the files of '{name}'"
    if problem(name, reserved, state_root) is not None:
        return f"{refusal}: that is not a student's username."
    private = os.path.join(state_root, "private")
    folder, _ = _state_paths(name, state_root)
    if os.path.lexists(folder):
        if not stat.S_ISDIR(os.lstat(private).st_mode):
            return f"{refusal}: {private} is not a plain folder."
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return f"{refusal}: {folder} is not a plain folder."
    return None


def remove_folder(name: str, reserved=frozenset(), state_root: str = "/var/lib") -> bool:
    """Delete a student's folder and its link; True if anything was there.

    Raises ValueError with folder_removal_problem's sentence instead of
    touching anything else. The folder is removed through a descriptor of
    private/ opened without following links, and rmtree never follows the
    links inside it.
    """
    refused = folder_removal_problem(name, reserved, state_root)
    if refused:
        raise ValueError(refused)
    folder, link = _state_paths(name, state_root)
    removed = False
    if os.path.lexists(folder):
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        private_fd = os.open(os.path.join(state_root, "private"), flags)
        try:
            shutil.rmtree(name, dir_fd=private_fd)
        finally:
            os.close(private_fd)
        removed = True
    if os.path.islink(link):  # problem() above made sure it is the link to private/<name>
        os.unlink(link)
        removed = True
    return removed


# --- the preflight's check of the admins named in the inventory -----------------

ADMIN_VARIABLES = "jupyterhub_admin_username or jupyterhub_extra_admins"


def admin_problems(admins, min_password_length: int, max_password_bytes: int) -> list[str]:
    """A sentence for each admin account (a dict with username and password) that cannot be made.

    Admins are checked against RULE only: their names are reserved for them, and
    the hub makes their folders. The sentences never hold a password.
    """
    found = []
    for admin in admins:
        admin = admin if isinstance(admin, dict) else {}
        name, password = admin.get("username"), admin.get("password")
        shown = name if isinstance(name, str) else "(no username)"
        if not isinstance(name, str) or form_problem(name):
            why = form_problem(name) if isinstance(name, str) else f"An admin account needs a username. {RULE}"
            found.append(f"The admin account '{shown}' ({ADMIN_VARIABLES}) cannot be made. {why}")
        if (
            not isinstance(password, str)
            or len(password) < min_password_length
            or len(password.encode("utf-8")) > max_password_bytes
        ):
            found.append(
                f"The admin account '{shown}' needs a password of at least {min_password_length} characters "
                f"and at most {max_password_bytes} bytes (jupyterhub_admin_password, or its entry in "
                "jupyterhub_extra_admins)."
            )
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check the admin accounts named in the inventory.")
    parser.add_argument("--admins", action="store_true", required=True, help="read them as JSON from stdin")
    parser.add_argument("--min-password-length", type=int, required=True)
    args = parser.parse_args(argv)
    from .passwords import MAX_BYTES  # bcrypt's limit, owned by the module that hashes

    found = admin_problems(json.load(sys.stdin), args.min_password_length, MAX_BYTES)
    for sentence in found:
        print(sentence)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

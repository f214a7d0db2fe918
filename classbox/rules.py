"""What a person is told when a signup or a password change cannot go ahead.

Each function returns one readable sentence, or None when all is well. The
hub's pages show these sentences; nothing here raises on what a user typed.
"""

from . import passwords


def password_problem(password: str, confirmation: str, min_length: int, is_common) -> str | None:
    if password != confirmation:
        return "The two passwords are not the same. Please type them again."
    if len(password) < min_length:
        return f"Your password needs at least {min_length} characters."
    if passwords.too_long(password):
        return (
            f"Your password is too long: at most {passwords.MAX_BYTES} bytes "
            f"({passwords.MAX_BYTES} plain letters, fewer with accents or emoji)."
        )
    if is_common(password):
        return "That password is too common and easy to guess. Please choose another one."
    return None


def signup_problem(
    username: str,
    *,
    taken: bool,
    admin_names,
    hub_user: bool,
    username_problem,
    leftover_files,
) -> str | None:
    """Why `username` (normalized) cannot sign up, or None.

    `taken`: it has a password (NativeAuthenticator's row). `hub_user`: the hub
    knows the name without a password (the teacher created it on the Admin
    page). `leftover_files(name)`: a deleted account's folder is still there.
    The callables run only for names that passed the checks before them.
    """
    if username in admin_names or taken:
        return (
            f"The username '{username}' is already taken. If it is yours, log in; "
            "if you forgot your password, ask your teacher to reset it."
        )
    if hub_user:
        return (
            f"The username '{username}' is already taken: your teacher created that account. "
            "Ask your teacher to set its password on the Students page."
        )
    problem = username_problem(username)
    if problem is None and leftover_files(username):
        return (
            f"The username '{username}' belonged to a deleted account whose files are still "
            "on the box. Choose another username, or ask your teacher."
        )
    return problem


def lockout_message(username: str, seconds_left: float) -> str:
    minutes = max(1, round(seconds_left / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many wrong passwords for '{username}'. Wait {minutes} {unit} and try again, "
        "or ask your teacher to reset your password."
    )


SIGNED_UP = "The signup was successful! You can now log in with your username and password."
AWAITING_APPROVAL = (
    "Your account was created and sent to the admin (your teacher) for approval. "
    "You can log in once they have approved it."
)
WRONG_LOGIN = "Wrong username or password. Check both and try again (usernames are lowercase)."
NOT_APPROVED = "Your account is waiting for your teacher's approval. Try again once they have approved it."
BUSY = "The box is busy, try again in a few seconds."
MUST_CHANGE = "Choose your own password before you start."
SAME_AS_SLIP = "Choose a new password, not the one you were given."
SAME_PASSWORD = "That is your current password: choose a new one."

"""NativeAuthenticator with classroom rules.

- usernames are normalized (white space, case) and checked against the rules
  in `usernames`; admin names are never open to signup (the playbook creates
  those accounts);
- passwords longer than bcrypt accepts are refused at signup and fail at
  login, instead of a server error;
- bcrypt (the check at login, the hash at signup and password change) runs
  in worker threads, so one student does not stall the hub for all others;
- the stored hash is re-read at every login, so a password the playbook
  changed works at once.
"""

from datetime import datetime

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.orm import UserInfo
from traitlets import Set, Unicode

from . import handlers, passwords, rules, usernames

# Our pages replace NativeAuthenticator's at the same URLs.
REPLACED_HANDLERS = {
    r"/login": handlers.LoginHandler,
    r"/signup": handlers.SignUpHandler,
    r"/change-password": handlers.ChangePasswordHandler,
    r"/change-password/([^/]+)": handlers.ChangePasswordAdminHandler,
}


class ClassroomAuthenticator(NativeAuthenticator):
    reserved_usernames = Set(
        Unicode(),
        config=True,
        help="Names nobody may sign up with, on top of the built-in ones.",
    )

    state_root = Unicode(
        "/var/lib",
        config=True,
        help="Where systemd keeps state directories (students' folders are linked there).",
    )

    def normalize_username(self, username):
        return super().normalize_username(usernames.normalize(username))

    def username_problem(self, username):
        """A sentence that says why this (normalized) name is refused, or None."""
        return usernames.problem(
            username, reserved=self.reserved_usernames, state_root=self.state_root
        )

    def validate_username(self, username):
        if username in self.admin_users:
            return super().validate_username(username)
        return self.username_problem(username) is None and super().validate_username(
            username
        )

    def signup_problem(self, username):
        """Why this (normalized) name cannot sign up, as a sentence, or None."""
        return rules.signup_problem(
            username, self.user_exists(username), self.admin_users, self.username_problem
        )

    def password_problem(self, password, confirmation):
        """Why this new password is refused, as a sentence, or None."""
        is_common = self.is_password_common if self.check_common_password else (lambda _: False)
        return rules.password_problem(
            password, confirmation, self.minimum_password_length, is_common
        )

    def lockout_seconds_left(self, username):
        """Seconds until a locked-out name may try again; 0 when it is not locked out."""
        if not self.allowed_failed_logins or not self.is_blocked(username):
            return 0
        since = (datetime.now() - self.login_attempts[username]["time"]).total_seconds()
        return max(1, self.seconds_before_next_try - since)

    def get_handlers(self, app):
        native = super().get_handlers(app)
        ours = [(url, REPLACED_HANDLERS.get(url, handler)) for url, handler in native]
        return ours + [(r"/students", handlers.StudentsHandler)]

    def is_password_strong(self, password):
        return not passwords.too_long(password) and super().is_password_strong(password)

    async def sign_up(self, username, password):
        """A new account, or None when the name or password is refused.

        NativeAuthenticator's create_user, with the hash made off the event loop.
        """
        username = self.normalize_username(username)
        if (
            not self.enable_signup
            or self.signup_problem(username)
            or self.password_problem(password, password)
        ):
            return None
        hashed = await passwords.hash_password_off_loop(password)
        if self.user_exists(username):  # taken by someone else meanwhile
            return None
        info = UserInfo(username=username, password=hashed, is_authorized=bool(self.open_signup))
        self.db.add(info)
        self.db.commit()
        return info

    async def set_password(self, username, password):
        """NativeAuthenticator's change_password, with the hash made off the event loop."""
        hashed = await passwords.hash_password_off_loop(password)
        info = self.get_user(username)
        info.password = hashed
        self.db.commit()

    async def authenticate(self, handler, data):
        username = self.normalize_username(data["username"])
        info = self.get_user(username)
        if info is None:
            return None
        self.db.refresh(info)
        if self.allowed_failed_logins and self.is_blocked(username):
            return None
        password_ok = await passwords.check_password_off_loop(data["password"], info.password)
        checks = [password_ok, info.is_authorized]
        if info.has_2fa:
            checks.append(info.is_valid_token(data.get("2fa")))
        if all(checks):
            self.successful_login(username)
            return username
        self.add_login_attempt(username)
        return None

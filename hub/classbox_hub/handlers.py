"""The hub's account pages, with a readable answer for any input.

They replace NativeAuthenticator's handlers at the same URLs: every refusal
says why in a sentence (see `rules`), no input raises a server error, and
bcrypt runs in worker threads. /hub/students is new: the teacher's
list of accounts, one click from the nav bar, with a reset link for each.
"""

from jupyterhub.scopes import needs_scope
from nativeauthenticator import handlers as native
from nativeauthenticator.orm import UserInfo
from tornado import web

from . import passwords, rules


async def password_matches(info: UserInfo | None, password: str) -> bool:
    return info is not None and await passwords.check_password_off_loop(password, info.password)


class SignUpHandler(native.SignUpHandler):
    async def render_template(self, name, **kwargs):
        kwargs.setdefault("min_password_length", self.authenticator.minimum_password_length)
        return await super().render_template(name, **kwargs)

    async def post(self):
        if not self.authenticator.enable_signup:
            raise web.HTTPError(404)
        raw_name = self.get_body_argument("username", "", strip=False)
        username = self.authenticator.normalize_username(raw_name)
        password = self.get_body_argument("signup_password", "", strip=False)
        problem = self.authenticator.signup_problem(username) or self.authenticator.password_problem(
            password, self.get_body_argument("signup_password_confirmation", "", strip=False)
        )
        info = None if problem else await self.authenticator.sign_up(username, password)
        if info is None:
            # the name may have been taken while the password was hashed
            problem = problem or self.authenticator.signup_problem(username) or "Please try again."
            self.log.info("Signup refused for %r: %s", raw_name[:64], problem)
            alert, message = "alert-danger", problem
        elif info.is_authorized:
            # The hub's own user too: the teacher sees the student in the Admin
            # page at once, and the first login is as light as any other.
            self.user_from_username(username)
            alert, message = "alert-success", rules.SIGNED_UP
        else:
            alert, message = "alert-info", rules.AWAITING_APPROVAL
        html = await self.render_template(
            "signup.html", result_message=message, alert=alert, username=raw_name if problem else ""
        )
        self.finish(html)


class LoginHandler(native.LoginHandler):
    async def post(self):
        data = {arg: self.get_argument(arg, strip=False) for arg in self.request.arguments}
        username = self.authenticator.normalize_username(data.get("username", ""))
        data["username"] = username
        data.setdefault("password", "")

        # A locked-out name is not even tried; a failed try may lock it out.
        if not self.authenticator.lockout_seconds_left(username):
            user = await self.login_user(data)
            if user:
                self._jupyterhub_user = user
                self.redirect(self.get_next_url(user))
                return
        seconds_left = self.authenticator.lockout_seconds_left(username)
        info = self.authenticator.get_user(username)
        if seconds_left:
            error = rules.lockout_message(username, seconds_left)
        elif info is not None and not info.is_authorized and await password_matches(
            info, data["password"]
        ):
            error = rules.NOT_APPROVED
        else:
            error = rules.WRONG_LOGIN
        html = await self._render(login_error=error, username=data.get("username", ""))
        self.finish(html)


class ChangePasswordHandler(native.ChangePasswordHandler):
    @web.authenticated
    async def post(self):
        user = await self.get_current_user()
        info = self.authenticator.get_user(user.name)
        old = self.get_body_argument("old_password", "", strip=False)
        new_password = self.get_body_argument("new_password", "", strip=False)
        if not await password_matches(info, old):
            problem = "Your current password was not right. Please try again."
        else:
            problem = self.authenticator.password_problem(
                new_password, self.get_body_argument("new_password_confirmation", "", strip=False)
            )
        if problem is None:
            await self.authenticator.set_password(user.name, new_password)
            alert, message = "alert-success", "Your password has been changed."
        else:
            alert, message = "alert-danger", problem
        html = await self.render_template(
            "change-password.html", user_name=user.name, result_message=message, alert=alert
        )
        self.finish(html)


class ChangePasswordAdminHandler(native.ChangePasswordAdminHandler):
    @needs_scope("admin:users")
    async def post(self, user_name):
        if not self.authenticator.user_exists(user_name):
            raise web.HTTPError(404)
        new_password = self.get_body_argument("new_password", "", strip=False)
        problem = self.authenticator.password_problem(
            new_password, self.get_body_argument("new_password_confirmation", "", strip=False)
        )
        if problem is None:
            await self.authenticator.set_password(user_name, new_password)
            self.authenticator.successful_login(user_name)  # lift a lockout too
            alert = "alert-success"
            message = (
                f"The password for {user_name} has been changed. Their files and "
                "running server are untouched; tell them the new password."
            )
        else:
            alert, message = "alert-danger", problem
        html = await self.render_template(
            "change-password-admin.html", user_name=user_name, result_message=message, alert=alert
        )
        self.finish(html)


class StudentsHandler(native.LocalBase):
    """The teacher's list of accounts: approve, reset a password, see who is online."""

    @needs_scope("admin:users")
    async def get(self):
        accounts = []
        for info in sorted(UserInfo.all_users(self.db), key=lambda i: i.username):
            hub_user = self.users.get(info.username)
            accounts.append(
                {
                    "name": info.username,
                    "approved": bool(info.is_authorized),
                    "admin": info.username in self.authenticator.admin_users,
                    "running": bool(hub_user and hub_user.running),
                    "locked": bool(self.authenticator.lockout_seconds_left(info.username)),
                }
            )
        html = await self.render_template(
            "students.html",
            accounts=accounts,
            needs_approval=not self.authenticator.open_signup,
        )
        self.finish(html)

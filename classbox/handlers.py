"""The hub's account pages, with a readable answer for any input.

They replace NativeAuthenticator's handlers at the same URLs: every refusal
says why in a sentence (see `rules`), no input raises a server error, bcrypt
runs in the bounded queue of `passwords` (a full queue answers 503 with the
normal page), and nothing changes an account on a plain GET: approve, discard,
clear a lockout and delete ask on GET and act on POST, where JupyterHub checks
the page's _xsrf token (BaseHandler.prepare, for every method but GET, HEAD
and OPTIONS). /hub/students is new: the teacher's list of accounts, one click
from the nav bar; so is /hub/students/add-class, a class list in one paste
(`classlist`), answered with the slips to print.

Each class that replaces one of NativeAuthenticator's has its name. The four
`post` methods below are whole replacements: NativeAuthenticator's have no
hook for a refusal's sentence, a busy answer or a hash made off the event loop.
"""

import asyncio
import os
from html import escape
from types import SimpleNamespace

from jupyterhub import orm
from jupyterhub.handlers.pages import SpawnHandler as HubSpawnHandler
from jupyterhub.scopes import needs_scope
from jupyterhub.utils import maybe_future, url_path_join
from nativeauthenticator import handlers as native
from nativeauthenticator.orm import UserInfo
from tornado import web
from tornado.httputil import url_concat

from . import classlist, disk, passwords, rules, share_pages, usernames

BUSY_SECONDS = "5"  # Retry-After on a busy answer


def answer_busy(handler):
    handler.set_status(503)
    handler.set_header("Retry-After", BUSY_SECONDS)


class SignUpHandler(native.SignUpHandler):
    async def render_template(self, name, **kwargs):
        kwargs.setdefault("min_password_length", self.authenticator.minimum_password_length)
        kwargs.setdefault("username_rule", usernames.RULE)
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
        info = None
        if not problem:
            try:
                info = await self.authenticator.create_user(username, password)
            except passwords.Busy:
                answer_busy(self)
                problem = rules.BUSY
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
        data["username"] = self.authenticator.normalize_username(data.get("username", ""))
        data.setdefault("password", "")
        # The authenticator leaves its reason here when it refuses (see its login_refusal).
        self.login_refusal = rules.WRONG_LOGIN
        user = await self.login_user(data)  # also makes `user` this request's current user
        if user and self.authenticator.must_change(user.name):
            # The page says why, and leads on to where the student was going (a lesson's link).
            self.redirect(change_password_url(self.hub.base_url, asked_next_url(self, user)))
            return
        if user:
            self.redirect(self.get_next_url(user))
            return
        if self.login_refusal == rules.BUSY:
            answer_busy(self)
        # No public method renders the login form with a sentence (and a 200): _render is what their post uses.
        html = await self._render(login_error=self.login_refusal, username=data["username"])
        self.finish(html)


def asked_next_url(handler, user):
    """Where the request's ?next= leads (JupyterHub's checked URL on the box), or None without one."""
    return handler.get_next_url(user) if handler.get_argument("next", "") else None


def change_password_url(hub_base_url, going_to=None):
    """The change-password page, and where its Continue leads (a URL on the box) if anywhere."""
    page = url_path_join(hub_base_url, "change-password")
    return url_concat(page, {"next": going_to}) if going_to else page


def must_change_error(change_password_url):
    """What starting a server answers while the student must choose their own password
    (the API, an admin's start; a student's own start goes to the page, SpawnHandler)."""
    error = web.HTTPError(403, rules.MUST_CHANGE)
    # JupyterHub shows these on its error and "Spawn failed" pages instead of a generic sentence.
    error.jupyterhub_message = rules.MUST_CHANGE
    error.jupyterhub_html_message = (
        f'{escape(rules.MUST_CHANGE)} <a href="{escape(change_password_url)}">Change your password</a>, '
        "then start your server."
    )
    return error


class SpawnHandler(HubSpawnHandler):
    """JupyterHub's /hub/spawn, where Start My Server and a lesson's link lead. A
    student who must still choose their own password goes to that page first,
    whose Continue comes back here (a 403 page said why, but its link to Home led back to it)."""

    @web.authenticated
    def get(self, user_name=None, server_name=""):
        user = self.current_user
        if user_name in (None, user.name) and self.authenticator.must_change(user.name):
            self.redirect(change_password_url(self.hub.base_url, self.request.uri))
            return None
        return super().get(user_name, server_name)


class ChangePasswordHandler(native.ChangePasswordHandler):
    """A student's own password; the first change of a password from a slip lets them start.

    ?next= (from the login or /hub/spawn) is where Continue leads once the password
    is changed; after a slip's password, Continue starts the student's server."""

    async def render_page(self, user, **page):
        html = await self.render_template(
            "change-password.html",
            user_name=user.name,
            post_url=self.request.uri,
            must_change_message=rules.MUST_CHANGE,
            **page,
        )
        self.finish(html)

    @web.authenticated
    async def get(self):
        user = await self.get_current_user()
        await self.render_page(user, must_change=self.authenticator.must_change(user.name))

    @web.authenticated
    async def post(self):
        user = await self.get_current_user()
        info = self.authenticator.get_user(user.name)
        old = self.get_body_argument("old_password", "", strip=False)
        new_password = self.get_body_argument("new_password", "", strip=False)
        must_change = self.authenticator.must_change(user.name)
        try:
            old_ok = info is not None and await passwords.QUEUE.check(user.name, old, info.password)
            if not old_ok:
                problem = "Your current password was not right. Please try again."
            else:
                problem = self.authenticator.password_problem(
                    new_password,
                    self.get_body_argument("new_password_confirmation", "", strip=False),
                )
            if problem is None and new_password == old:
                problem = rules.SAME_AS_SLIP if must_change else rules.SAME_PASSWORD
            if problem is None:
                await self.authenticator.change_password(user.name, new_password)
        except passwords.Busy:
            answer_busy(self)
            problem = rules.BUSY
        if problem is not None:
            await self.render_page(user, must_change=must_change, result_message=problem, alert="alert-danger")
            return
        if must_change:
            self.authenticator.set_must_change(user.name, False)
        going_to = asked_next_url(self, user)
        if must_change and not going_to:
            going_to = url_path_join(self.hub.base_url, "spawn")
        await self.render_page(
            user, result_message="Your password has been changed.", alert="alert-success", continue_url=going_to
        )


class ChangePasswordAdminHandler(native.ChangePasswordAdminHandler):
    """The teacher sets anyone's password, also for an account made on the Admin page."""

    @needs_scope("admin:users")
    async def get(self, user_name):
        if not self.authenticator.has_account(user_name):
            raise web.HTTPError(404)
        html = await self.render_template("change-password-admin.html", user_name=user_name)
        self.finish(html)

    @needs_scope("admin:users")
    async def post(self, user_name):
        if not self.authenticator.has_account(user_name):
            raise web.HTTPError(404)
        new_password = self.get_body_argument("new_password", "", strip=False)
        problem = self.authenticator.password_problem(
            new_password, self.get_body_argument("new_password_confirmation", "", strip=False)
        )
        if problem is None:
            try:
                await self.authenticator.change_password(user_name, new_password)
            except passwords.Busy:
                answer_busy(self)
                problem = rules.BUSY
        if problem is None:
            self.authenticator.clear_lockout(user_name)
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


# --- The teacher's pages ------------------------------------------------------


class Refused(Exception):
    """An account action that cannot go ahead; str() is the sentence to show."""

    def __init__(self, message, status=409):
        super().__init__(message)
        self.status = status


class TeacherPages(native.LocalBase):
    """The Students page and the authorization area, with the outcome of an action on top."""

    def accounts(self, sizes=None):
        """Every account the hub knows: with a password (NativeAuthenticator) or not.

        sizes: {name: bytes} of the students' folders (disk.usage).
        """
        sizes = sizes or {}
        infos = {info.username: info for info in UserInfo.all_users(self.db)}
        names = set(infos) | {user.name for user in self.db.query(orm.User)}
        rows = []
        for name in sorted(names):
            info, hub_user = infos.get(name), self.users.get(name)
            rows.append(
                {
                    "name": name,
                    "has_password": info is not None,
                    "approved": bool(info and info.is_authorized),
                    "admin": name in self.authenticator.admin_users,
                    "running": bool(hub_user and hub_user.running),
                    "locked": self.authenticator.is_blocked(name),
                    "myself": name == self.current_user.name,
                    "space_used": sizes.get(name, 0),
                    "space_used_text": disk.human(sizes[name]) if name in sizes else "no files yet",
                }
            )
        return rows

    async def show(self, page="students", message=None, alert="alert-success", status=200):
        self.set_status(status)
        if page == "authorize":
            html = await self.render_template(
                "authorization-area.html",
                users=sorted(UserInfo.all_users(self.db), key=lambda info: info.username),
                result_message=message,
                alert=alert,
            )
        else:
            # Walks every student's folder (metadata only): in a thread, so that
            # the hub keeps answering everyone else meanwhile.
            students_root = os.path.join(self.authenticator.state_root, "private")
            sizes, space = await asyncio.to_thread(disk.report, students_root)
            html = await self.render_template(
                "students.html",
                accounts=self.accounts(sizes),
                disk_summary=disk.summary(space) if space else "",
                needs_approval=not self.authenticator.open_signup,
                shares=share_pages.rows(share_pages.store(self.authenticator).links(), self.hub.base_url),
                result_message=message,
                alert=alert,
            )
        self.finish(html)


class StudentsHandler(TeacherPages):
    """The teacher's list of accounts: approve, reset a password, clear a lockout, delete."""

    @web.authenticated
    @needs_scope("admin:users")
    async def get(self):
        await self.show(message=share_pages.withdrawn_message(self))


class AuthorizationAreaHandler(TeacherPages):
    """NativeAuthenticator's /hub/authorize, with forms that POST."""

    @web.authenticated
    @needs_scope("admin:users")
    async def get(self):
        await self.show("authorize")


class AccountAction(TeacherPages):
    """One change to one account: GET shows a page that asks, POST does it.

    Subclasses set the page's words and write act(), which returns the
    sentence that says what was done or raises Refused with the reason.
    """

    title = ""
    explanation = ""
    button = ""
    choices = ()  # (value, label) for a "choice" radio group; the first is the default

    def ask(self, info):
        """The page's words for this account: (title, explanation, button, hidden fields)."""
        return self.title, self.explanation, self.button, {}

    def back_to(self):
        return "authorize" if self.get_argument("next", "") == "authorize" else "students"

    @web.authenticated
    @needs_scope("admin:users")
    async def get(self, user_name):
        if not self.authenticator.has_account(user_name):
            await self.show(message=f"There is no account '{user_name}'.", alert="alert-danger", status=404)
            return
        title, explanation, button, hidden = self.ask(self.authenticator.get_user(user_name))
        html = await self.render_template(
            "account-action.html",
            user_name=user_name,
            title=title.format(name=user_name),
            explanation=explanation.format(name=user_name),
            button=button,
            hidden=hidden,
            choices=[(value, label.format(name=user_name)) for value, label in self.choices],
            next_page=self.back_to(),
        )
        self.finish(html)

    @needs_scope("admin:users")
    async def post(self, user_name):
        try:
            message = await self.act(user_name)
        except Refused as refusal:
            await self.show(self.back_to(), str(refusal), "alert-danger", refusal.status)
            return
        self.log.info("%s by %s: %s", type(self).__name__, self.current_user.name, message)
        await self.show(self.back_to(), message)

    async def act(self, user_name):
        raise NotImplementedError

    def existing(self, user_name):
        """The account's NativeAuthenticator row (or None); Refused when the hub has no such account."""
        if not self.authenticator.has_account(user_name):
            raise Refused(f"There is no account '{user_name}'.", status=404)
        return self.authenticator.get_user(user_name)

    async def delete_account(self, user_name):
        """What the Admin page's Delete does: stop the server, forget the user and its password."""
        user = self.find_user(user_name)
        if user is None:
            self.authenticator.delete_user(SimpleNamespace(name=user_name))
            return
        busy = f"The server of '{user_name}' is starting or stopping. Try again in a minute."
        if user.spawner.pending:
            raise Refused(busy)
        if user.running:
            await self.stop_single_user(user)
            if user.spawner.pending:
                raise Refused(busy)
        await maybe_future(self.authenticator.delete_user(user))
        await user.delete_spawners()
        self.users.delete(user)


class ToggleAuthorizationHandler(AccountAction):
    """/hub/authorize/<name>: approve a signup, or withdraw the approval (NativeAuthenticator's URL).

    NativeAuthenticator's toggled on a GET; this one asks on GET and posts the
    state to set, so that sending the form twice does not undo it.
    """

    def ask(self, info):
        if info is not None and info.is_authorized:
            return (
                "Withdraw the approval of {name}?",
                "They cannot log in until you approve them again; their files stay.",
                "Withdraw approval",
                {"approved": "no"},
            )
        return ("Approve {name}?", "They can log in as soon as you approve them.", "Approve", {})

    async def act(self, user_name):
        if self.existing(user_name) is None:
            raise Refused(f"'{user_name}' has no password yet: set one with Reset password.")
        approved = self.get_body_argument("approved", "yes") != "no"
        if not approved and user_name in self.authenticator.admin_users:
            raise Refused(f"'{user_name}' is an admin named in the inventory and stays approved.")
        self.authenticator.set_approved(user_name, approved)
        if approved:
            return f"{user_name} is approved and can log in now."
        return f"{user_name} is no longer approved and cannot log in."


class DiscardHandler(AccountAction):
    """/hub/discard/<name>: remove a signup that was never approved (NativeAuthenticator's URL)."""

    title = "Discard the signup of {name}?"
    explanation = "The account is removed and the username is free again."
    button = "Discard"

    async def act(self, user_name):
        info = self.existing(user_name)
        if info is None or info.is_authorized:
            raise Refused(
                f"'{user_name}' is not waiting for approval: delete the account on the Students page instead."
            )
        await self.delete_account(user_name)
        return f"The signup of {user_name} was discarded."


class ClearLockoutHandler(AccountAction):
    """/hub/students/<name>/clear-lockout: let a student who mistyped try again at once."""

    title = "Let {name} try again now?"
    explanation = "Their wrong tries are forgotten; their password stays the same."
    button = "Clear lockout"

    async def act(self, user_name):
        self.existing(user_name)
        self.authenticator.clear_lockout(user_name)
        return f"{user_name} can log in again now."


class DeleteHandler(AccountAction):
    """/hub/students/<name>/delete: delete an account, and its files if the teacher says so.

    Without its files the name stays blocked for signups (`rules.signup_problem`),
    so that no new student gets the old one's files.
    """

    title = "Delete the account {name}?"
    explanation = "Their server is stopped and they can no longer log in."
    button = "Delete"
    choices = (
        ("keep", "Keep the files: the username stays blocked, so nobody else gets them."),
        ("delete", "Delete the files too (all of {name}'s notebooks and data), for good."),
    )

    async def act(self, user_name):
        auth = self.authenticator
        self.existing(user_name)
        if user_name in auth.admin_users:
            raise Refused(f"'{user_name}' is an admin named in the inventory: remove it there first.")
        if user_name == self.current_user.name:
            raise Refused("You cannot delete your own account.")
        with_files = self.get_body_argument("choice", "keep") == "delete"
        if with_files:
            problem = usernames.folder_removal_problem(user_name, auth.reserved_usernames, auth.state_root)
            if problem:
                raise Refused(problem)
        await self.delete_account(user_name)
        if not with_files:
            return f"The account {user_name} was deleted; the files are kept."
        try:
            usernames.remove_folder(user_name, auth.reserved_usernames, auth.state_root)
        except (OSError, ValueError) as error:
            self.log.error("Could not delete the files of %s: %s", user_name, error)
            raise Refused(f"The account {user_name} was deleted, but not all of the files: {error}") from error
        return f"The account {user_name} and the files were deleted; the username is free again."


# --- A class in one paste -------------------------------------------------------


class AddClassHandler(TeacherPages):
    """/hub/students/add-class: paste a class list, get an account and a printed slip per student.

    The passwords are on the answer to the POST only: never stored in clear,
    never logged, and the page is not kept in the browser's cache.
    """

    async def show_form(self, class_list="", must_change=True, message=None, status=200):
        self.set_status(status)
        html = await self.render_template(
            "add-class.html",
            class_list=class_list,
            must_change=must_change,
            max_names=classlist.MAX_NAMES,
            result_message=message,
            alert="alert-danger",
        )
        self.finish(html)

    def box_address(self):
        """The hub's address as the teacher's browser reached it, like http://box.lan/jupyterhub/."""
        return f"{self.request.protocol}://{self.request.host}{self.hub.base_url.removesuffix('hub/')}"

    @web.authenticated
    @needs_scope("admin:users")
    async def get(self):
        await self.show_form()

    @needs_scope("admin:users")
    async def post(self):
        text = self.get_body_argument("class_list", "", strip=False)
        must_change = self.get_body_argument("must_change", "") == "on"
        lines, problem = classlist.read_paste(text)
        if problem:
            await self.show_form(text, must_change, problem, status=400)
            return
        if passwords.QUEUE.full():
            answer_busy(self)
            await self.show_form(text, must_change, rules.BUSY, status=503)
            return
        result = await classlist.create_accounts(self.authenticator, lines, must_change)
        for name, _ in result.created:
            self.user_from_username(name)  # on the Admin page at once, as after a signup
        self.log.info("Add a class by %s: %s", self.current_user.name, result.summary())
        if result.busy:
            answer_busy(self)
        self.set_header("Cache-Control", "no-store")
        html = await self.render_template(
            "class-sheet.html",
            slips=classlist.slips(result),
            not_created=result.not_created(),
            address=self.box_address(),
            must_change=must_change,
            standalone=False,
        )
        self.finish(html)

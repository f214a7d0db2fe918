"""NativeAuthenticator with classroom rules.

- usernames are normalized (white space, case) and checked against the rules
  in `usernames`; admin names are never open to signup (the playbook creates
  those accounts), nor are names the hub already knows or whose files are
  still on the box;
- passwords longer than bcrypt accepts are refused at signup and fail at
  login, instead of a server error;
- bcrypt runs in the bounded queue of `passwords`: off the event loop, one
  check at a time per name, and "busy" instead of an endless queue;
- a login try counts against the lockout before its password is checked, so
  a burst of simultaneous wrong passwords gets no more checks than a slow
  one; a lockout lasts its time and then starts afresh; an admin's lockout is
  per computer (and for the name as a whole only after many more wrong tries),
  so that a student typing wrong passwords cannot keep the teacher out;
- the stored hash is re-read at every login, so a password the playbook
  changed works at once;
- a student whose account the teacher made with a generated password (a class
  list, `classlist`) may be asked to choose their own first: a marker file in
  must_change_dir, and no server until it is gone (pre_spawn_start).

Names: where NativeAuthenticator has the operation, ours overrides it under
its name (authenticate, create_user, change_password, is_password_strong,
is_blocked; add_login_attempt and successful_login count and forget tries),
and each of our pages replaces its handler of the same name (see
REPLACED_HANDLERS). Names of our own are for what it does not have: lockout
details, approval, must-change markers, the teacher's pages.
"""

import contextlib
import hmac
import os
import re
from datetime import datetime

from jupyterhub import orm
from jupyterhub.utils import url_path_join
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native
from nativeauthenticator.orm import UserInfo
from traitlets import Float, Integer, Set, Unicode, observe

from . import course_pages, handlers, passwords, rules, share_pages, usernames

# The hub's state directory (classbox_hub_state_dir): nobody but root reads it.
MUST_CHANGE_DIR = "/var/lib/jupyterhub/must-change-password"
# An admin's tries count per computer, so that nobody at another computer can
# lock the teacher out; the admin's name as a whole locks out only after the
# wrong tries of this many computers.
ADMIN_NAME_LIMIT_FACTOR = 5
# The lockout's address for a login that did not come through nginx.
ON_THE_BOX = "the box itself"


class NginxHeader:
    """The header nginx adds to the login and signup forms it forwards to the hub: (name, secret)
    from its file's `proxy_set_header NAME SECRET;`, read again when the file
    changes; None while there is no such file."""

    LINE = re.compile(r"^proxy_set_header\s+([A-Za-z0-9-]+)\s+([0-9a-f]{64});$", re.MULTILINE)

    def __init__(self):
        self.seen, self.header = None, None

    def read(self, path: str) -> tuple[str, str] | None:
        try:
            status = os.stat(path)
        except FileNotFoundError:
            self.seen, self.header = None, None
            return None
        version = (status.st_ino, status.st_mtime_ns, status.st_size)
        if version != self.seen:
            with open(path) as stream:
                found = self.LINE.search(stream.read())
            self.seen, self.header = version, (found.groups() if found else None)
        return self.header


# Our pages replace NativeAuthenticator's handlers of the same name, at its
# URLs; the ones that changed accounts on a plain GET now ask on GET and act
# on POST.
REPLACED_HANDLERS = {
    native.LoginHandler: handlers.LoginHandler,
    native.SignUpHandler: handlers.SignUpHandler,
    native.AuthorizationAreaHandler: handlers.AuthorizationAreaHandler,
    native.ToggleAuthorizationHandler: handlers.ToggleAuthorizationHandler,
    native.DiscardHandler: handlers.DiscardHandler,
    native.ChangePasswordHandler: handlers.ChangePasswordHandler,
    native.ChangePasswordAdminHandler: handlers.ChangePasswordAdminHandler,
}
OUR_HANDLERS = [
    # JupyterHub's own /spawn pages: before the hub's handlers, so these are the ones used.
    (r"/spawn", handlers.SpawnHandler),
    (r"/spawn/([^/]+)", handlers.SpawnHandler),
    (r"/students", handlers.StudentsHandler),
    (r"/students/([^/]+)/clear-lockout", handlers.ClearLockoutHandler),
    (r"/students/([^/]+)/delete", handlers.DeleteHandler),
    (r"/students/add-class", handlers.AddClassHandler),
    (r"/students/collect", course_pages.CollectHandler),
    (r"/students/collected/([^/]+)", course_pages.CollectedHandler),
    (r"/lessons", course_pages.LessonsHandler),
    *share_pages.HANDLERS,
]


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

    password_checks_waiting = Integer(
        max(64, 4 * passwords.CORES),
        config=True,
        help=(
            "Password checks (logins, signups) that may wait for a processor; beyond "
            "that, the page says the box is busy. A whole class logging in at once must fit."
        ),
    )

    lessons_index = Unicode(
        "/srv/classbox/lessons.json",
        config=True,
        help="The lessons the teacher published (classbox.lessons writes it): the Lessons page.",
    )

    homework_dir = Unicode(
        "/var/backups/classbox/homework",
        config=True,
        help="Where the Students page's Collect writes archives of homework (for root only).",
    )

    share_dir = Unicode(
        "/var/lib/jupyterhub/shares",
        config=True,
        help="Share a copy (classbox.sharing): the links and their snapshots, for root only.",
    )

    share_days = Float(7, config=True, help="How long a shared link works, in days.")

    share_max_megabytes = Float(20, config=True, help="The largest file a student may share, in MB.")

    shares_per_ten_minutes = Integer(
        20, config=True, help="How many links one person may make in ten minutes (more is refused with a sentence)."
    )

    nginx_header_file = Unicode(
        "",
        config=True,
        help=(
            "nginx's proxy_set_header line with this box's secret (the web role writes it, nginx adds it "
            "to the login and signup forms): a login whose request carries it came through nginx, and its "
            "X-Real-IP is the browser's. Empty: every address is believed."
        ),
    )

    must_change_dir = Unicode(
        MUST_CHANGE_DIR,
        config=True,
        help=(
            "One empty file per student who must choose their own password at the next login "
            "(NativeAuthenticator's table has no column for it)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        passwords.QUEUE.waiting = self.password_checks_waiting
        self._nginx_header = NginxHeader()

    @observe("password_checks_waiting")
    def _resize_queue(self, change):
        passwords.QUEUE.waiting = change["new"]

    def normalize_username(self, username):
        return super().normalize_username(usernames.normalize(username))

    def username_problem(self, username):
        """A sentence that says why this (normalized) name is refused, or None."""
        return usernames.problem(username, reserved=self.reserved_usernames, state_root=self.state_root)

    def validate_username(self, username):
        if username in self.admin_users:
            return super().validate_username(username)
        return self.username_problem(username) is None and super().validate_username(username)

    def is_hub_user(self, username):
        """True when the hub has a user of that name (with or without a password)."""
        return orm.User.find(self.db, username) is not None

    def has_account(self, username):
        """True when the name has a password here or the hub knows it (made on the Admin page)."""
        return self.user_exists(username) or self.is_hub_user(username)

    def signup_problem(self, username):
        """Why this (normalized) name cannot sign up, as a sentence, or None."""
        return rules.signup_problem(
            username,
            taken=self.user_exists(username),
            admin_names=self.admin_users,
            hub_user=self.is_hub_user(username),
            username_problem=self.username_problem,
            leftover_files=lambda name: usernames.has_leftover_folder(name, self.state_root),
        )

    def password_problem(self, password, confirmation):
        """Why this new password is refused, as a sentence, or None."""
        is_common = self.is_password_common if self.check_common_password else (lambda _: False)
        return rules.password_problem(password, confirmation, self.minimum_password_length, is_common)

    # --- Lockout ---------------------------------------------------------
    # NativeAuthenticator's try counters, keyed by lockout_keys(): its
    # add_login_attempt counts a try, successful_login forgets them all.

    def lockout_keys(self, username, address=None):
        """The counters a try adds to: a student's name; for an admin, the name at
        that address and, with a higher limit, the name as a whole (the address
        is client_address's: nginx's X-Real-IP, or "the box itself")."""
        if username in self.admin_users and address:
            return [f"{username} from {address}", username]
        return [username]

    def lockout_limit(self, key):
        """Wrong tries in a row that lock `key` out."""
        if key in self.admin_users:
            return self.allowed_failed_logins * ADMIN_NAME_LIMIT_FACTOR
        return self.allowed_failed_logins

    def lockout_seconds_left(self, key):
        """Seconds until `key` may try again; 0 when it is not locked out.

        A lockout lasts seconds_before_next_try from the try that started it
        (tries during a lockout are not counted, so they do not prolong it);
        tries older than that are forgotten, so the count then starts afresh.
        """
        # No public hook gives the time of the last counted try: read NativeAuthenticator's record.
        attempts = self.login_attempts.get(key)
        if not self.allowed_failed_logins or not attempts:
            return 0
        age = (datetime.now() - attempts["time"]).total_seconds()
        if age >= self.seconds_before_next_try:
            self.successful_login(key)  # old tries are forgotten: a fresh start
            return 0
        if attempts["count"] < self.lockout_limit(key):
            return 0
        return self.seconds_before_next_try - age

    def _lockout_keys_of(self, username):
        """The lockout keys that have tries for `username`: its name, and an admin's per address."""
        # No public hook lists the counted names: read NativeAuthenticator's record.
        return [key for key in list(self.login_attempts) if key == username or key.startswith(f"{username} from ")]

    def locked_out_seconds(self, username):
        """The longest lockout of `username`, from any computer; 0 when none."""
        return max((self.lockout_seconds_left(key) for key in self._lockout_keys_of(username)), default=0)

    def is_blocked(self, username):
        """True when `username` is locked out, from any computer.

        NativeAuthenticator's own version compares timedelta.seconds, which
        starts again from 0 every day: a name could be blocked a day later.
        """
        return self.locked_out_seconds(username) > 0

    def clear_lockout(self, username):
        """Forget the failed tries of `username`, from every computer."""
        for key in self._lockout_keys_of(username):
            self.successful_login(key)

    # --- Logins, signups, passwords --------------------------------------

    async def login_refusal(self, username, password, token=None, address=None):
        """None when the login may go ahead, else the sentence the login page shows.

        The try is counted before the password is checked: twelve simultaneous
        wrong passwords meet the lockout after allowed_failed_logins checks, and
        the right password after them is refused too.
        """
        info = self.get_user(username)
        if info is None:
            return rules.WRONG_LOGIN
        self.db.refresh(info)
        keys = self.lockout_keys(username, address)
        seconds_left = max(self.lockout_seconds_left(key) for key in keys)
        if seconds_left:
            return rules.lockout_message(username, seconds_left)
        if passwords.QUEUE.full():
            return rules.BUSY
        if self.allowed_failed_logins:
            for key in keys:
                self.add_login_attempt(key)
        try:
            password_ok = await passwords.QUEUE.check(username, password, info.password)
        except passwords.Busy:  # not reached: full() said there was room, with no await since
            return rules.BUSY
        if password_ok and info.is_authorized and (not info.has_2fa or info.is_valid_token(token)):
            for key in keys:
                self.successful_login(key)
            return None
        if password_ok and not info.is_authorized:
            for key in keys:
                self.successful_login(key)  # the password was right: no guess to count
            return rules.NOT_APPROVED
        seconds_left = max(self.lockout_seconds_left(key) for key in keys)
        if seconds_left:
            return rules.lockout_message(username, seconds_left)
        return rules.WRONG_LOGIN

    def client_address(self, request):
        """Where a login came from, for the lockout: the browser's address when
        nginx forwarded it, else "the box itself" (code on the box reaches the
        hub's port directly, and could claim any X-Real-IP). Without nginx's
        header file (a box before its web role ran), every address is believed."""
        header = self._nginx_header.read(self.nginx_header_file) if self.nginx_header_file else None
        if header is None or hmac.compare_digest(request.headers.get(header[0], "").encode(), header[1].encode()):
            return request.remote_ip
        return ON_THE_BOX

    async def authenticate(self, handler, data):
        """The username, or None with the reason in handler.login_refusal."""
        username = self.normalize_username(data["username"])
        address = self.client_address(handler.request) if handler is not None else None
        refusal = await self.login_refusal(username, data.get("password", ""), data.get("2fa"), address)
        if refusal is None:
            return username
        if handler is not None:
            handler.login_refusal = refusal
        return None

    def get_handlers(self, app):
        stock = super().get_handlers(app)
        ours = [(url, REPLACED_HANDLERS.get(handler, handler)) for url, handler in stock]
        return ours + OUR_HANDLERS

    def is_password_strong(self, password):
        return self.password_problem(password, password) is None

    async def create_user(self, username, password):
        """A new account, or None when the name or password is refused.

        NativeAuthenticator's create_user, async here: the hash is made in the
        queue. Raises passwords.Busy when the queue is full. (Its
        import_from_firstuse, which calls this without await, stays off.)
        """
        username = self.normalize_username(username)
        if not self.enable_signup or self.signup_problem(username) or self.password_problem(password, password):
            return None
        async with passwords.QUEUE.turn(username):
            if self.signup_problem(username):  # taken while this signup waited its turn
                return None
            hashed = await passwords.QUEUE.run(passwords.hash_password, password)
            if self.signup_problem(username):
                return None
            info = UserInfo(username=username, password=hashed, is_authorized=bool(self.open_signup))
            self.db.add(info)
            self.db.commit()
        return info

    async def change_password(self, username, password):
        """NativeAuthenticator's change_password, async here: the hash is made in the queue.

        A hub user with no password yet (the teacher created it on the Admin
        page) gets one, approved. Raises passwords.Busy when the queue is full.
        """
        hashed = await passwords.QUEUE.hash(username, password)
        info = self.get_user(username)
        if info is None:
            info = UserInfo(username=username, password=hashed, is_authorized=True)
            self.db.add(info)
        else:
            info.password = hashed
        self.db.commit()

    # --- A password the teacher handed out, changed at first login -----------

    def must_change(self, username):
        """True when `username` must choose their own password before starting a server."""
        return usernames.well_formed(username) and os.path.exists(os.path.join(self.must_change_dir, username))

    def set_must_change(self, username, must_change):
        """Ask `username` to choose their own password (or stop asking)."""
        if not usernames.well_formed(username):  # the name becomes a file name
            return
        marker = os.path.join(self.must_change_dir, username)
        if must_change:
            os.makedirs(self.must_change_dir, mode=0o700, exist_ok=True)
            with open(marker, "w"):
                pass
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(marker)

    def pre_spawn_start(self, user, spawner):
        """No server until a student has replaced the password on their slip.

        JupyterHub 5 shows the error's jupyterhub_html_message on /hub/spawn
        (the page answers with its status) and on /hub/user/<name> afterwards
        (its "Spawn failed" page), and the API answers with its status.
        """
        if self.must_change(user.name):
            raise handlers.must_change_error(url_path_join(spawner.hub.base_url, "change-password"))

    def delete_user(self, user):
        """NativeAuthenticator's (the row with the password goes), and the must-change marker."""
        self.set_must_change(user.name, False)
        return super().delete_user(user)

    def set_approved(self, username, approved):
        """Approve a signup (or withdraw the approval); False when there is no such account."""
        info = self.get_user(username)
        if info is None:
            return False
        info.is_authorized = approved
        self.db.commit()
        return True

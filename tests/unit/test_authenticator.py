import asyncio
from datetime import timedelta

from nativeauthenticator.orm import UserInfo

from classbox_hub import admin


def login(auth, username, password):
    return asyncio.run(auth.authenticate(None, {"username": username, "password": password}))


def sign_up(auth, username, password):
    return asyncio.run(auth.sign_up(username, password))


def test_signup_normalizes_the_name_and_login_accepts_any_case(authenticator):
    assert sign_up(authenticator, "  Anna ", "classroom-42") is not None
    assert authenticator.get_user("anna") is not None
    assert login(authenticator, "ANNA", "classroom-42") == "anna"


def test_wrong_password_is_refused(authenticator):
    sign_up(authenticator, "bob", "classroom-42")
    assert login(authenticator, "bob", "classroom-43") is None
    assert login(authenticator, "nobody-here", "classroom-42") is None


def test_over_long_password_refused_at_signup_and_fails_login_quietly(authenticator):
    assert sign_up(authenticator, "carla", "p" * 73) is None
    sign_up(authenticator, "dan", "classroom-42")
    assert login(authenticator, "dan", "q" * 200) is None


def test_bad_and_reserved_names_cannot_sign_up(authenticator):
    for name in ["../x", "a b", "root", "2cool", "hub"]:
        assert sign_up(authenticator, name, "classroom-42") is None, name
        assert authenticator.get_user(name) is None


def test_admin_name_is_never_open_to_signup(authenticator):
    assert sign_up(authenticator, "Admin", "students-guess") is None
    assert authenticator.get_user("admin") is None


def test_admin_seeded_by_the_playbook_can_log_in(authenticator, db_url):
    assert admin.set_password(db_url, "admin", "teacher-secret") is True
    assert authenticator.validate_username("admin")
    assert login(authenticator, "admin", "teacher-secret") == "admin"


def test_password_changed_by_the_playbook_works_without_a_hub_restart(authenticator, db_url):
    admin.set_password(db_url, "admin", "first-secret")
    assert login(authenticator, "admin", "first-secret") == "admin"
    admin.set_password(db_url, "admin", "second-secret")
    assert login(authenticator, "admin", "first-secret") is None
    assert login(authenticator, "admin", "second-secret") == "admin"


def test_approval_mode_keeps_unapproved_students_out(authenticator):
    authenticator.open_signup = False
    sign_up(authenticator, "erin", "classroom-42")
    assert login(authenticator, "erin", "classroom-42") is None
    UserInfo.change_authorization(authenticator.db, "erin")
    assert login(authenticator, "erin", "classroom-42") == "erin"


def test_signup_problem_normalized_taken_and_admin(authenticator):
    sign_up(authenticator, "fiona", "classroom-42")
    assert "already taken" in authenticator.signup_problem("fiona")
    assert "already taken" in authenticator.signup_problem("admin")
    assert "characters" in authenticator.signup_problem("fi na")
    assert authenticator.signup_problem("gina") is None


def test_common_passwords_are_refused_only_when_asked(authenticator):
    authenticator.check_common_password = True
    assert "too common" in authenticator.password_problem("password123", "password123")
    authenticator.check_common_password = False
    assert authenticator.password_problem("password123", "password123") is None


def test_lockout_after_repeated_failures_ends_after_its_time(authenticator):
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    sign_up(authenticator, "hana", "classroom-42")
    for _ in range(3):
        assert login(authenticator, "hana", "wrong-password") is None
    left = authenticator.lockout_seconds_left("hana")
    assert 590 < left <= 600
    # locked out: even the right password is refused until the time has passed
    assert login(authenticator, "hana", "classroom-42") is None
    authenticator.login_attempts["hana"]["time"] -= timedelta(seconds=601)
    assert authenticator.lockout_seconds_left("hana") == 0
    assert login(authenticator, "hana", "classroom-42") == "hana"


def test_our_pages_replace_the_stock_ones(authenticator):
    from classbox_hub import handlers

    routes = dict(authenticator.get_handlers(None))
    assert routes["/login"] is handlers.LoginHandler
    assert routes["/signup"] is handlers.SignUpHandler
    assert routes["/change-password"] is handlers.ChangePasswordHandler
    assert routes["/change-password/([^/]+)"] is handlers.ChangePasswordAdminHandler
    assert routes["/students"] is handlers.StudentsHandler


def test_approved_signup_and_waiting_signup(authenticator):
    assert sign_up(authenticator, "ivan", "classroom-42").is_authorized
    authenticator.open_signup = False
    assert not sign_up(authenticator, "jade", "classroom-42").is_authorized


def test_common_or_mismatched_passwords_make_no_account(authenticator):
    authenticator.check_common_password = True
    assert sign_up(authenticator, "kim", "password123") is None
    assert sign_up(authenticator, "kim", "short") is None
    assert authenticator.get_user("kim") is None


def test_set_password_replaces_the_old_one(authenticator):
    sign_up(authenticator, "lena", "classroom-42")
    asyncio.run(authenticator.set_password("lena", "new-classroom-43"))
    assert login(authenticator, "lena", "classroom-42") is None
    assert login(authenticator, "lena", "new-classroom-43") == "lena"


def test_the_hub_keeps_answering_while_a_signup_hashes(authenticator):
    """A bcrypt hash takes about 0.25 s; on the event loop it would stall every request."""

    async def signup_while_ticking():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        info = await authenticator.sign_up("mona", "classroom-42")
        ticker.cancel()
        return info, ticks

    info, ticks = asyncio.run(signup_while_ticking())
    assert info is not None
    assert ticks >= 5, f"the event loop ticked only {ticks} times during the hash"

import asyncio
import itertools
import os
from datetime import timedelta

import pytest
from jupyterhub import orm
from nativeauthenticator.orm import UserInfo

from classbox import admin, passwords, rules


def log_in(auth, username, password):
    return asyncio.run(auth.authenticate(None, {"username": username, "password": password}))


def sign_up(auth, username, password):
    return asyncio.run(auth.create_user(username, password))


def test_signup_normalizes_the_name_and_login_accepts_any_case(authenticator):
    assert sign_up(authenticator, "  Anna ", "classroom-42") is not None
    assert authenticator.get_user("anna") is not None
    assert log_in(authenticator, "ANNA", "classroom-42") == "anna"


def test_wrong_password_is_refused(authenticator):
    sign_up(authenticator, "bob", "classroom-42")
    assert log_in(authenticator, "bob", "classroom-43") is None
    assert log_in(authenticator, "nobody-here", "classroom-42") is None


def test_over_long_password_refused_at_signup_and_fails_login_quietly(authenticator):
    assert sign_up(authenticator, "carla", "p" * 73) is None
    sign_up(authenticator, "dan", "classroom-42")
    assert log_in(authenticator, "dan", "q" * 200) is None


def test_bad_and_reserved_names_cannot_sign_up(authenticator):
    for name in ["../x", "a b", "root", "2cool", "hub"]:
        assert sign_up(authenticator, name, "classroom-42") is None, name
        assert authenticator.get_user(name) is None


def test_admin_name_is_never_open_to_signup(authenticator):
    assert sign_up(authenticator, "Admin", "students-guess") is None
    assert authenticator.get_user("admin") is None


def test_admin_seeded_by_the_playbook_can_log_in(authenticator, db_url):
    assert admin.change_password(db_url, "admin", "teacher-secret") is True
    assert authenticator.validate_username("admin")
    assert log_in(authenticator, "admin", "teacher-secret") == "admin"


def test_password_changed_by_the_playbook_works_without_a_hub_restart(authenticator, db_url):
    admin.change_password(db_url, "admin", "first-secret")
    assert log_in(authenticator, "admin", "first-secret") == "admin"
    admin.change_password(db_url, "admin", "second-secret")
    assert log_in(authenticator, "admin", "first-secret") is None
    assert log_in(authenticator, "admin", "second-secret") == "admin"


def test_approval_mode_keeps_unapproved_students_out(authenticator):
    authenticator.open_signup = False
    sign_up(authenticator, "erin", "classroom-42")
    assert log_in(authenticator, "erin", "classroom-42") is None
    UserInfo.change_authorization(authenticator.db, "erin")
    assert log_in(authenticator, "erin", "classroom-42") == "erin"


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
        assert log_in(authenticator, "hana", "wrong-password") is None
    left = authenticator.lockout_seconds_left("hana")
    assert 590 < left <= 600
    # locked out: even the right password is refused until the time has passed
    assert log_in(authenticator, "hana", "classroom-42") is None
    authenticator.login_attempts["hana"]["time"] -= timedelta(seconds=601)
    assert authenticator.lockout_seconds_left("hana") == 0
    assert log_in(authenticator, "hana", "classroom-42") == "hana"


def test_our_pages_replace_the_stock_ones(authenticator):
    from classbox import handlers

    routes = dict(authenticator.get_handlers(None))
    assert routes["/login"] is handlers.LoginHandler
    assert routes["/signup"] is handlers.SignUpHandler
    assert routes["/change-password"] is handlers.ChangePasswordHandler
    assert routes["/change-password/([^/]+)"] is handlers.ChangePasswordAdminHandler
    assert routes["/students"] is handlers.StudentsHandler


def test_each_replaced_page_keeps_the_name_of_the_one_it_replaces():
    from classbox.authenticator import REPLACED_HANDLERS

    for stock, ours in REPLACED_HANDLERS.items():
        assert ours.__name__ == stock.__name__ and ours is not stock


def test_approved_signup_and_waiting_signup(authenticator):
    assert sign_up(authenticator, "ivan", "classroom-42").is_authorized
    authenticator.open_signup = False
    assert not sign_up(authenticator, "jade", "classroom-42").is_authorized


def test_common_or_mismatched_passwords_make_no_account(authenticator):
    authenticator.check_common_password = True
    assert sign_up(authenticator, "kim", "password123") is None
    assert sign_up(authenticator, "kim", "short") is None
    assert authenticator.get_user("kim") is None


def test_change_password_replaces_the_old_one(authenticator):
    sign_up(authenticator, "lena", "classroom-42")
    asyncio.run(authenticator.change_password("lena", "new-classroom-43"))
    assert log_in(authenticator, "lena", "classroom-42") is None
    assert log_in(authenticator, "lena", "new-classroom-43") == "lena"


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
        info = await authenticator.create_user("mona", "classroom-42")
        ticker.cancel()
        return info, ticks

    info, ticks = asyncio.run(signup_while_ticking())
    assert info is not None
    assert ticks >= 5, f"the event loop ticked only {ticks} times during the hash"


# --- Lockout and the password queue -------------------------------------------


class Address:
    """A stand-in for the login page's handler: the hub reads the client's address from it."""

    def __init__(self, ip, headers=None):
        self.request = type("Request", (), {"remote_ip": ip, "headers": headers or {}})()


def log_in_from(auth, ip, username, password, headers=None):
    handler = Address(ip, headers)
    name = asyncio.run(auth.authenticate(handler, {"username": username, "password": password}))
    return name, getattr(handler, "login_refusal", None)


@pytest.fixture
def counted_checks(monkeypatch):
    """Every bcrypt check that runs, as (stored hash, start, end)."""
    import time

    calls = []
    real_check = passwords.check_password

    def check(password, hashed):
        start = time.monotonic()
        try:
            return real_check(password, hashed)
        finally:
            calls.append((hashed, start, time.monotonic()))

    monkeypatch.setattr(passwords, "check_password", check)
    return calls


def all_at_once(auth, tries):
    """Log in with each (username, password) at the same moment; the refusals, in order."""

    async def burst():
        handlers = [Address("10.0.0.9") for _ in tries]
        await asyncio.gather(
            *(
                auth.authenticate(handler, {"username": name, "password": password})
                for handler, (name, password) in zip(handlers, tries, strict=True)
            )
        )
        return [getattr(handler, "login_refusal", None) for handler in handlers]

    return asyncio.run(burst())


def test_a_burst_of_wrong_passwords_meets_the_lockout_before_the_right_one(authenticator, counted_checks):
    """Counted before hashing: 12 simultaneous wrong tries get 5 checks, and the right
    password sent with them does not slip through."""
    authenticator.allowed_failed_logins = 5
    authenticator.seconds_before_next_try = 300
    sign_up(authenticator, "nora", "classroom-42")
    tries = [("nora", f"guess-{i}") for i in range(12)] + [("nora", "classroom-42")]
    refusals = all_at_once(authenticator, tries)
    assert len(counted_checks) <= 5, f"{len(counted_checks)} bcrypt checks ran"
    assert "Too many wrong passwords" in refusals[-1]
    assert authenticator.lockout_seconds_left("nora") > 290
    assert log_in(authenticator, "nora", "classroom-42") is None


def test_one_check_at_a_time_per_name(authenticator, counted_checks):
    """A second login for the same name waits for the first check; other names do not."""
    authenticator.allowed_failed_logins = 0
    omar = sign_up(authenticator, "omar", "classroom-42").password
    sign_up(authenticator, "pia", "classroom-42")
    refusals = all_at_once(authenticator, [("omar", "classroom-42")] * 3 + [("pia", "classroom-42")])
    assert refusals == [None] * 4
    omars = sorted((start, end) for hashed, start, end in counted_checks if hashed == omar)
    assert len(omars) == 3
    for (_, first_end), (second_start, _) in itertools.pairwise(omars):
        assert second_start >= first_end, "two checks for one name ran at the same time"


def test_a_full_password_queue_says_busy_instead_of_waiting(authenticator, monkeypatch):
    authenticator.allowed_failed_logins = 5
    authenticator.password_checks_waiting = 2
    monkeypatch.setattr(passwords.QUEUE, "threads", 1)
    names = [f"q{i}" for i in range(8)]
    for name in names:
        sign_up(authenticator, name, "classroom-42")
    refusals = all_at_once(authenticator, [(name, "classroom-42") for name in names])
    assert refusals[:3] == [None] * 3  # one running, two waiting
    assert refusals[3:] == [rules.BUSY] * 5
    # a refusal for a busy box is not a wrong try
    assert all(authenticator.lockout_seconds_left(name) == 0 for name in names)
    assert not any(name in authenticator.login_attempts for name in names)
    assert passwords.QUEUE.admitted == 0


def test_a_full_queue_makes_signup_raise_busy(authenticator, monkeypatch):
    authenticator.password_checks_waiting = 0
    monkeypatch.setattr(passwords.QUEUE, "admitted", passwords.QUEUE.threads)
    with pytest.raises(passwords.Busy):
        sign_up(authenticator, "rita", "classroom-42")
    assert authenticator.get_user("rita") is None


def test_tries_during_a_lockout_do_not_prolong_it(authenticator):
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    sign_up(authenticator, "sam", "classroom-42")
    for _ in range(3):
        log_in(authenticator, "sam", "wrong-password")
    started = authenticator.login_attempts["sam"]["time"]
    for _ in range(5):
        assert log_in(authenticator, "sam", "wrong-password") is None
    assert authenticator.login_attempts["sam"] == {"count": 3, "time": started}


def test_after_a_lockout_the_count_starts_afresh(authenticator):
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    sign_up(authenticator, "tom", "classroom-42")
    for _ in range(3):
        log_in(authenticator, "tom", "wrong-password")
    authenticator.login_attempts["tom"]["time"] -= timedelta(seconds=601)
    # one typo after the lockout is one wrong try, not a new lockout
    assert log_in(authenticator, "tom", "wrong-password") is None
    assert authenticator.lockout_seconds_left("tom") == 0
    assert log_in(authenticator, "tom", "classroom-42") == "tom"


def test_a_lockout_does_not_come_back_a_day_later(authenticator):
    """NativeAuthenticator compares timedelta.seconds, which wraps around every day."""
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    sign_up(authenticator, "uma", "classroom-42")
    for _ in range(3):
        log_in(authenticator, "uma", "wrong-password")
    authenticator.login_attempts["uma"]["time"] -= timedelta(days=1, seconds=60)
    assert not authenticator.is_blocked("uma")
    assert log_in(authenticator, "uma", "classroom-42") == "uma"


def test_nobody_at_another_computer_locks_the_admin_out(authenticator, db_url):
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    admin.change_password(db_url, "admin", "teacher-secret")
    for _ in range(10):
        name, refusal = log_in_from(authenticator, "10.0.0.66", "admin", "guess-1")
    assert "Too many wrong passwords" in refusal
    assert log_in_from(authenticator, "10.0.0.66", "admin", "teacher-secret") == (None, refusal)
    # the teacher's own computer is not locked out
    assert log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret") == ("admin", None)
    assert authenticator.locked_out_seconds("admin") > 590
    # and the teacher's own lockout lasts the lockout time, no longer
    for _ in range(3):
        log_in_from(authenticator, "10.0.0.2", "admin", "typo-1")
    authenticator.login_attempts["admin from 10.0.0.2"]["time"] -= timedelta(seconds=601)
    assert log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret") == ("admin", None)


def test_students_lock_out_by_name_from_any_computer(authenticator):
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    sign_up(authenticator, "vera", "classroom-42")
    for ip in ["10.0.0.5", "10.0.0.6", "10.0.0.7"]:
        log_in_from(authenticator, ip, "vera", "guess-1")
    assert "Too many wrong passwords" in log_in_from(authenticator, "10.0.0.8", "vera", "classroom-42")[1]


def test_clear_lockout_lets_the_student_in_at_once(authenticator, db_url):
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    sign_up(authenticator, "will", "classroom-42")
    admin.change_password(db_url, "admin", "teacher-secret")
    for _ in range(3):
        log_in(authenticator, "will", "wrong-password")
        log_in_from(authenticator, "10.0.0.66", "admin", "guess-1")
    assert authenticator.locked_out_seconds("will") and authenticator.locked_out_seconds("admin")
    authenticator.clear_lockout("will")
    authenticator.clear_lockout("admin")
    assert not authenticator.locked_out_seconds("will") and not authenticator.locked_out_seconds("admin")
    assert log_in(authenticator, "will", "classroom-42") == "will"


def test_login_refusals_say_why(authenticator):
    authenticator.open_signup = False
    sign_up(authenticator, "xena", "classroom-42")
    assert log_in_from(authenticator, "10.0.0.5", "xena", "classroom-42") == (None, rules.NOT_APPROVED)
    assert log_in_from(authenticator, "10.0.0.5", "xena", "classroom-43") == (None, rules.WRONG_LOGIN)
    assert log_in_from(authenticator, "10.0.0.5", "nobody", "classroom-42") == (None, rules.WRONG_LOGIN)


# --- Names the hub knows, and folders left behind -----------------------------


def test_a_name_created_on_the_admin_page_cannot_be_signed_up(authenticator, db):
    db.add(orm.User(name="yann"))
    db.commit()
    assert "your teacher created" in authenticator.signup_problem("yann")
    assert sign_up(authenticator, "yann", "classroom-42") is None
    assert authenticator.get_user("yann") is None


def test_the_teacher_sets_the_first_password_of_an_admin_page_account(authenticator, db):
    db.add(orm.User(name="yann"))
    db.commit()
    asyncio.run(authenticator.change_password("yann", "classroom-42"))
    assert log_in(authenticator, "yann", "classroom-42") == "yann"


def test_a_deleted_accounts_folder_blocks_the_name(authenticator, tmp_path):
    state = tmp_path / "var-lib"
    (state / "private" / "zara").mkdir(parents=True)
    assert "deleted account" in authenticator.signup_problem("zara")
    os.symlink("private/zara", state / "zara")
    assert sign_up(authenticator, "zara", "classroom-42") is None
    # only the link left (its folder removed by hand) blocks it too
    (state / "private" / "zara").rmdir()
    assert "deleted account" in authenticator.signup_problem("zara")
    os.unlink(state / "zara")
    assert sign_up(authenticator, "zara", "classroom-42") is not None


def test_an_existing_students_folder_does_not_block_their_login(authenticator, tmp_path):
    sign_up(authenticator, "anja", "classroom-42")
    (tmp_path / "var-lib" / "private" / "anja").mkdir(parents=True)
    os.symlink("private/anja", tmp_path / "var-lib" / "anja")
    assert log_in(authenticator, "anja", "classroom-42") == "anja"


def test_every_account_changing_url_is_ours(authenticator):
    """NativeAuthenticator's /authorize/<name> and /discard/<name> changed accounts on a GET."""
    from classbox import handlers

    routes = dict(authenticator.get_handlers(None))
    assert routes["/authorize/([^/]*)"] is handlers.ToggleAuthorizationHandler
    assert routes["/discard/([^/]*)"] is handlers.DiscardHandler
    assert routes["/authorize"] is handlers.AuthorizationAreaHandler
    assert routes["/students/([^/]+)/clear-lockout"] is handlers.ClearLockoutHandler
    assert routes["/students/([^/]+)/delete"] is handlers.DeleteHandler


def test_forged_addresses_get_a_bounded_number_of_guesses_at_the_admin(authenticator, db_url, counted_checks):
    """Code on the box can reach the hub directly and send any X-Real-IP: the admin's
    name as a whole locks out after five computers' worth of wrong tries."""
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    admin.change_password(db_url, "admin", "teacher-secret")
    for i in range(40):
        log_in_from(authenticator, f"10.1.0.{i}", "admin", "guess-1")
    assert len(counted_checks) == 15
    name, refusal = log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret")
    assert name is None and "Too many wrong passwords" in refusal
    authenticator.login_attempts["admin"]["time"] -= timedelta(seconds=601)
    assert log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret") == ("admin", None)


def test_only_what_nginx_forwarded_counts_at_the_address_it_claims(authenticator, db_url, counted_checks, tmp_path):
    """Code on the box reaches the hub's port directly, claiming any X-Real-IP:
    without nginx's header, all its tries count as one place, the box itself."""
    header_file = tmp_path / "classbox-hub-header.conf"
    header_file.write_text(f"proxy_set_header X-Classbox-Nginx {'ab' * 32};\n")
    authenticator.nginx_header_file = str(header_file)
    authenticator.allowed_failed_logins = 3
    authenticator.seconds_before_next_try = 600
    admin.change_password(db_url, "admin", "teacher-secret")
    from_nginx = {"X-Classbox-Nginx": "ab" * 32}
    for i in range(40):
        headers = {"X-Classbox-Nginx": "cd" * 32} if i % 2 else {}
        log_in_from(authenticator, f"10.1.0.{i}", "admin", "guess-1", headers)
    assert len(counted_checks) == 3  # one place's tries, not forty computers'
    assert authenticator.login_attempts["admin from the box itself"]["count"] == 3
    assert log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret", from_nginx) == ("admin", None)
    # a new secret (the web role made the file again) is read at the next login
    header_file.write_text(f"proxy_set_header X-Classbox-Nginx {'ef' * 32};\n")
    name, refusal = log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret", from_nginx)
    assert name is None and "Too many wrong passwords" in refusal
    assert log_in_from(authenticator, "10.0.0.2", "admin", "teacher-secret", {"X-Classbox-Nginx": "ef" * 32}) == (
        "admin",
        None,
    )

import asyncio

from nativeauthenticator.orm import UserInfo

from classbox_hub import admin


def login(auth, username, password):
    return asyncio.run(auth.authenticate(None, {"username": username, "password": password}))


def test_signup_normalizes_the_name_and_login_accepts_any_case(authenticator):
    assert authenticator.create_user("  Anna ", "classroom-42") is not None
    assert authenticator.get_user("anna") is not None
    assert login(authenticator, "ANNA", "classroom-42") == "anna"


def test_wrong_password_is_refused(authenticator):
    authenticator.create_user("bob", "classroom-42")
    assert login(authenticator, "bob", "classroom-43") is None
    assert login(authenticator, "nobody-here", "classroom-42") is None


def test_over_long_password_refused_at_signup_and_fails_login_quietly(authenticator):
    assert authenticator.create_user("carla", "p" * 73) is None
    authenticator.create_user("dan", "classroom-42")
    assert login(authenticator, "dan", "q" * 200) is None


def test_bad_and_reserved_names_cannot_sign_up(authenticator):
    for name in ["../x", "a b", "root", "2cool", "hub"]:
        assert authenticator.create_user(name, "classroom-42") is None, name
        assert authenticator.get_user(name) is None


def test_admin_name_is_never_open_to_signup(authenticator):
    assert authenticator.create_user("Admin", "students-guess") is None
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
    authenticator.create_user("erin", "classroom-42")
    assert login(authenticator, "erin", "classroom-42") is None
    UserInfo.change_authorization(authenticator.db, "erin")
    assert login(authenticator, "erin", "classroom-42") == "erin"

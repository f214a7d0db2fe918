import io
import sys

from nativeauthenticator.orm import UserInfo

from classbox import admin, passwords


def test_change_password_is_idempotent(db_url):
    assert admin.change_password(db_url, "admin", "teacher-secret") is True
    assert admin.change_password(db_url, "admin", "teacher-secret") is False
    assert admin.change_password(db_url, "admin", "new-secret") is True


def test_change_password_approves_an_unapproved_account(db_url, fresh_session):
    admin.change_password(db_url, "admin", "teacher-secret")
    fresh_session.query(UserInfo).filter_by(username="admin").update({"is_authorized": False})
    fresh_session.commit()
    assert admin.change_password(db_url, "admin", "teacher-secret") is True
    fresh_session.expire_all()
    info = fresh_session.query(UserInfo).filter_by(username="admin").one()
    assert info.is_authorized
    assert passwords.check_password("teacher-secret", info.password)


def run_main(monkeypatch, capsys, stdin, *args):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = admin.main(list(args))
    return code, capsys.readouterr()


def test_main_reports_changed_then_unchanged(db_url, monkeypatch, capsys):
    args = ("--db-url", db_url, "--username", "admin")
    code, out = run_main(monkeypatch, capsys, "teacher-secret\n", *args)
    assert (code, out.out.strip()) == (0, "changed")
    code, out = run_main(monkeypatch, capsys, "teacher-secret\n", *args)
    assert (code, out.out.strip()) == (0, "unchanged")


def test_main_refuses_empty_and_over_long_passwords(db_url, monkeypatch, capsys):
    args = ("--db-url", db_url, "--username", "admin")
    code, out = run_main(monkeypatch, capsys, "", *args)
    assert code == 2 and "no password" in out.err
    code, out = run_main(monkeypatch, capsys, "x" * 80, *args)
    assert code == 2 and "72 bytes" in out.err

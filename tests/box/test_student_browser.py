"""The hub's login and signup pages and the admin's page, in a real browser (Debian's Chromium).

A student's first lesson, from signing up to a plot, is test_course.py's smoke test."""

import re

from playwright.sync_api import expect

from tests.box.box import HUB_URL
from tests.box.lab import log_in, sign_up


def test_admin_logs_in_and_sees_the_admin_page(page, admin_credentials):
    username, password = admin_credentials
    log_in(page, username, password)
    page.goto(f"{HUB_URL}/hub/admin")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/admin"))
    expect(page.get_by_text(username, exact=True).first).to_be_visible(timeout=30_000)


def test_nobody_can_sign_up_as_the_admin(page, admin_credentials):
    username, _ = admin_credentials
    status, alert = sign_up(page, username.upper(), "some-guess-123")
    assert status == 200
    expect(alert).to_contain_text("already taken")


def test_wrong_password_does_not_log_in(page, admin_credentials):
    username, _ = admin_credentials
    log_in(page, username, "not-the-password")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/login"))
    expect(page.locator("#login-main")).to_contain_text("Wrong username or password")

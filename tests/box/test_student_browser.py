"""A student's first lesson, in a real browser (Debian's Chromium)."""

import re

import pytest
from playwright.sync_api import expect

from tests.box.box import HUB_URL, new_student_name
from tests.box.lab import log_in, new_notebook, new_student, open_lab, run_cell, sign_up


@pytest.mark.smoke
def test_student_signs_up_logs_in_and_runs_a_cell(page):
    username = new_student_name()
    page.goto(f"{HUB_URL}/")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/login"))
    page.get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/signup"))
    new_student(page, username)

    open_lab(page, username)
    # The offline box never asks about Jupyter news.
    expect(page.get_by_text("Would you like to get notified")).to_have_count(0)
    new_notebook(page)
    output = run_cell(page, "print(6 * 7, 'from', __import__('os').getcwd())")
    assert output.strip() == f"42 from /var/lib/private/{username}"


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

"""A student's first lesson, in a real browser (Debian's Chromium)."""

import re

from conftest import HUB_URL, new_student_name
from playwright.sync_api import expect

PASSWORD = "blue-koala-42"


def sign_up(page, username, password=PASSWORD):
    page.goto(f"{HUB_URL}/")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/login"))
    page.get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/signup"))
    page.fill("#username_input", username)
    page.fill("#password_input", password)
    page.fill("#password_confirmation_input", password)
    page.click("#signup_submit")
    return page.locator(".alert")


def log_in(page, username, password=PASSWORD):
    page.goto(f"{HUB_URL}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", password)
    page.click("#login_submit")


def test_student_signs_up_logs_in_and_runs_a_cell(page):
    username = new_student_name()

    expect(sign_up(page, username)).to_contain_text("The signup was successful")

    log_in(page, username)
    # The server starts, then JupyterLab opens on its launcher.
    expect(page).to_have_url(re.compile(rf"/jupyterhub/user/{username}/lab"), timeout=120_000)
    launcher_notebook = page.locator('.jp-LauncherCard[data-category="Notebook"]').first
    expect(launcher_notebook).to_be_visible(timeout=120_000)
    # The offline box never asks about Jupyter news.
    expect(page.get_by_text("Would you like to get notified")).to_have_count(0)

    launcher_notebook.click()
    cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    expect(cell).to_be_visible(timeout=60_000)
    # A person waits until the kernel is ready; a cell run before that is dropped.
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
    cell.click()
    page.keyboard.type("print(6 * 7, 'from', __import__('os').getcwd())")
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output").first
    expect(output).to_contain_text(f"42 from /var/lib/private/{username}", timeout=60_000)


def test_admin_logs_in_and_sees_the_admin_page(page, admin_credentials):
    username, password = admin_credentials
    log_in(page, username, password)
    page.goto(f"{HUB_URL}/hub/admin")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/admin"))
    expect(page.get_by_text(username, exact=True).first).to_be_visible(timeout=30_000)


def test_nobody_can_sign_up_as_the_admin(page, admin_credentials):
    username, _ = admin_credentials
    alert = sign_up(page, username.upper(), "some-guess-123")
    expect(alert).to_contain_text("already in use")


def test_wrong_password_does_not_log_in(page, admin_credentials):
    username, _ = admin_credentials
    log_in(page, username, "not-the-password")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/login"))
    expect(page.locator("#login-main")).to_contain_text("Invalid username or password")

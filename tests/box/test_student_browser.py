"""The hub's login and signup pages and the admin's page, in a real browser (Debian's Chromium).

A student's first lesson, from signing up to a plot, is test_course.py's smoke test;
one on a phone is here."""

import re

from playwright.sync_api import expect

from tests.box.box import HUB_URL, new_student_name
from tests.box.lab import log_in, new_student, open_lab, sign_up


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


def test_a_student_on_a_phone_gets_the_whole_screen_for_the_notebook(page):
    name = new_student_name("phone")
    page.set_viewport_size({"width": 390, "height": 844})
    new_student(page, name)
    open_lab(page, name)
    # JupyterLab opens with its file list closed (classbox/labextension): open, it
    # left the launcher or the notebook a column a few words wide.
    file_list = page.locator("#jp-left-stack")
    expect(file_list).to_be_hidden()
    assert page.locator("#jp-main-dock-panel").bounding_box()["width"] > 300
    # The folder icon opens it.
    page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="filebrowser"]').click()
    expect(file_list).to_be_visible()

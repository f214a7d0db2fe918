"""Accounts as students and the teacher meet them: signup with good and bad
input, login failures and lockout, password change, admin reset, delete and
re-create. Every answer is a page a person can read, never a server error."""

import re
import time

import pytest
from conftest import HUB_URL, new_student_name
from lab import PASSWORD, log_in, login_error, new_notebook, new_student, open_lab, run_cell, sign_up
from playwright.sync_api import expect

BAD_USERNAMES = [
    ("../etc", "characters the box cannot use"),
    ("anna/bob", "characters the box cannot use"),
    ("anna bob", "characters the box cannot use"),
    ("anna,bob", "characters the box cannot use"),
    ("2cool", "characters the box cannot use"),
    ("josé", "characters the box cannot use"),
    ("<script>", "characters the box cannot use"),
    ("a" * 33, "too long"),
    ("root", "reserved"),
    ("jupyterhub", "reserved"),
    ("dpkg", "used by the system"),
    ("nginx", "used by the system"),
]

BAD_PASSWORDS = [
    ("short", None, "at least 8 characters"),
    ("123456789", None, "too common"),
    ("password123", None, "too common"),
    ("a" * 73, None, "too long"),
    ("🐨" * 19, None, "too long"),
    ("x" * 5000, None, "too long"),
    ("blue-koala-42", "blue-koala-43", "not the same"),
]


@pytest.mark.parametrize("username, says", BAD_USERNAMES)
def test_bad_username_gets_a_readable_answer(page, username, says):
    status, alert = sign_up(page, username)
    assert status == 200
    expect(alert).to_contain_text(says)


@pytest.mark.parametrize("password, confirmation, says", BAD_PASSWORDS)
def test_bad_password_gets_a_readable_answer(page, password, confirmation, says):
    username = new_student_name("pw")
    status, alert = sign_up(page, username, password, confirmation)
    assert status == 200
    expect(alert).to_contain_text(says)
    # nothing was created: the name is still free
    status, alert = sign_up(page, username)
    expect(alert).to_contain_text("The signup was successful")


def test_username_is_normalized_and_a_taken_name_keeps_its_owner(page):
    name = new_student_name("zoe")
    status, alert = sign_up(page, f"  {name.upper()} ")
    assert status == 200
    expect(alert).to_contain_text("The signup was successful")

    status, alert = sign_up(page, name, "someone-else-9")
    expect(alert).to_contain_text("already taken")
    log_in(page, name, "someone-else-9")
    expect(login_error(page)).to_contain_text("Wrong username or password")

    log_in(page, name.upper(), PASSWORD)
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{name}"), timeout=60_000)


def test_repeated_failures_lock_the_name_out_and_say_so(page):
    name = new_student_name("lock")
    new_student(page, name)
    for _ in range(5):
        log_in(page, name, "wrong-password-1")
    expect(login_error(page)).to_contain_text("Too many wrong passwords")
    # while locked out, the right password is refused too, with the same explanation
    log_in(page, name, PASSWORD)
    expect(login_error(page)).to_contain_text("Too many wrong passwords")
    # other students carry on
    other = new_student_name("free")
    new_student(page, other)
    log_in(page, other)
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{other}"), timeout=60_000)


def test_student_changes_their_own_password_from_the_hub_menu(page):
    name = new_student_name("chg")
    new_student(page, name)
    log_in(page, name)
    page.goto(f"{HUB_URL}/hub/home")
    page.get_by_role("link", name="Change password").click()
    expect(page).to_have_url(re.compile(r"/hub/change-password$"))

    def change(old, new, again=None):
        page.fill("#old_password_input", old)
        page.fill("#new_password_input", new)
        page.fill("#new_password_confirmation_input", new if again is None else again)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator("input[type=submit]").click()
        assert answer.value.status == 200
        return page.locator(".alert")

    expect(change("not-my-password", "green-otter-77")).to_contain_text("current password was not right")
    expect(change(PASSWORD, "tiny")).to_contain_text("at least 8 characters")
    expect(change(PASSWORD, "b" * 100)).to_contain_text("too long")
    expect(change(PASSWORD, "green-otter-77", "green-otter-78")).to_contain_text("not the same")
    expect(change(PASSWORD, "green-otter-77")).to_contain_text("Your password has been changed")

    log_in(page, name, PASSWORD)
    expect(login_error(page)).to_contain_text("Wrong username or password")
    log_in(page, name, "green-otter-77")
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{name}"), timeout=60_000)


def test_admin_resets_a_password_in_two_clicks_and_the_students_work_is_untouched(
    host, page, other_page, admin_credentials
):
    name = new_student_name("rst")
    new_student(page, name)
    open_lab(page, name)
    unit = f"jupyter-{name}-singleuser.service"
    pid_before = host.check_output(f"systemctl show -p MainPID --value {unit}")
    new_notebook(page)
    run_cell(page, "print(open('work.txt', 'w').write('my work\\n'))")
    for _ in range(5):  # the student also locked themselves out
        log_in(page, name, "forgotten-1")

    admin = other_page
    log_in(admin, *admin_credentials)
    admin.goto(f"{HUB_URL}/hub/home")  # the Control Panel
    admin.get_by_role("link", name="Students").click()  # click 1
    row = admin.locator(f'tr[data-username="{name}"]')
    expect(row).to_contain_text("running")
    row.get_by_role("link", name="Reset password").click()  # click 2
    admin.fill("#new_password_input", "fresh-start-55")
    admin.fill("#new_password_confirmation_input", "fresh-start-55")
    admin.locator("input[type=submit]").click()
    expect(admin.locator(".alert")).to_contain_text(f"The password for {name} has been changed")

    log_in(page, name, "fresh-start-55")
    expect(page).to_have_url(re.compile(rf"/jupyterhub/user/{name}/lab"), timeout=60_000)
    assert host.check_output(f"systemctl show -p MainPID --value {unit}") == pid_before
    assert host.file(f"/var/lib/private/{name}/work.txt").content_string == "my work\n"


def test_deleting_and_recreating_a_student_keeps_their_files(host, page, other_page, admin_credentials):
    name = new_student_name("del")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    run_cell(page, "print(open('kept.txt', 'w').write('kept\\n'))")

    admin = other_page
    log_in(admin, *admin_credentials)
    admin.goto(f"{HUB_URL}/hub/admin")  # what the Admin page's Delete button calls, below
    hub_cookies = admin.context.cookies(f"{HUB_URL}/hub/admin")
    xsrf = next(c["value"] for c in hub_cookies if c["name"] == "_xsrf" and "/hub" in c["path"])
    headers = {"X-XSRFToken": xsrf}
    api = f"{HUB_URL}/hub/api/users/{name}"
    assert admin.request.delete(f"{api}/server", headers=headers).status in (202, 204)
    for _ in range(60):  # the Admin page, too, waits for the server to stop
        if not admin.request.get(api, headers=headers).json()["pending"]:
            break
        time.sleep(1)
    deleted = admin.request.delete(api, headers=headers)
    assert deleted.status == 204, deleted.text()

    new_student(page, name, "second-life-33")
    open_lab(page, name, "second-life-33")
    assert host.file(f"/var/lib/private/{name}/kept.txt").content_string == "kept\n"

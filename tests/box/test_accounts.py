"""Accounts as students and the teacher meet them: signup with good and bad
input, login failures and lockout, password change, admin reset, delete (with
or without the files) and re-create, approvals that only a POST makes, and the
playbook refusing to make a student an admin. Every answer is a page a person
can read, never a server error."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.box.box import HUB_URL, new_student_name, only_in_the_first_pass
from tests.box.lab import (
    PASSWORD,
    change_password,
    log_in,
    login_error,
    new_notebook,
    new_student,
    open_lab,
    run_cell,
    sign_up,
)
from tests.box.playbook import run_site

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
        status, alert = change_password(page, old, new, again)
        assert status == 200
        return alert

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


def admin_api(admin):
    """The hub's REST API as the Admin page calls it, from the teacher's browser."""
    admin.goto(f"{HUB_URL}/hub/admin")
    hub_cookies = admin.context.cookies(f"{HUB_URL}/hub/admin")
    xsrf = next(c["value"] for c in hub_cookies if c["name"] == "_xsrf" and "/hub" in c["path"])
    return {"X-XSRFToken": xsrf}


def delete_on_the_admin_page(admin, name):
    """What the Admin page's Delete button calls: stop the server, then delete the user."""
    headers = admin_api(admin)
    api = f"{HUB_URL}/hub/api/users/{name}"
    assert admin.request.delete(f"{api}/server", headers=headers).status in (202, 204)
    for _ in range(60):  # the Admin page, too, waits for the server to stop
        if not admin.request.get(api, headers=headers).json()["pending"]:
            break
        time.sleep(1)
    deleted = admin.request.delete(api, headers=headers)
    assert deleted.status == 204, deleted.text()


def students_row(admin, name):
    admin.goto(f"{HUB_URL}/hub/students")
    return admin.locator(f'tr[data-username="{name}"]')


def test_a_name_deleted_on_the_admin_page_keeps_its_files_for_the_same_student_only(
    host, page, other_page, admin_credentials
):
    """The files stay, so the name stays blocked for signups (a new student would get
    them); the teacher gives the account back: Add user on the Admin page, then Set
    password on the Students page."""
    name = new_student_name("del")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    run_cell(page, "print(open('kept.txt', 'w').write('kept\\n'))")

    admin = other_page
    log_in(admin, *admin_credentials)
    delete_on_the_admin_page(admin, name)

    status, alert = sign_up(page, name, "someone-else-9")
    assert status == 200
    expect(alert).to_contain_text("belonged to a deleted account whose files are still on the box")

    created = admin.request.post(f"{HUB_URL}/hub/api/users/{name}", headers=admin_api(admin))
    assert created.status == 201, created.text()
    status, alert = sign_up(page, name, "someone-else-9")
    expect(alert).to_contain_text("your teacher created that account")
    row = students_row(admin, name)
    expect(row).to_contain_text("no password yet")
    row.get_by_role("link", name="Set password").click()
    admin.fill("#new_password_input", "second-life-33")
    admin.fill("#new_password_confirmation_input", "second-life-33")
    admin.locator("input[type=submit]").click()
    expect(admin.locator(".alert")).to_contain_text(f"The password for {name} has been changed")

    open_lab(page, name, "second-life-33")
    assert host.file(f"/var/lib/private/{name}/kept.txt").content_string == "kept\n"


def test_delete_with_files_on_the_students_page_frees_the_name(host, page, other_page, admin_credentials):
    name = new_student_name("wipe")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    run_cell(page, "print(open('old.txt', 'w').write('old\\n'))")
    unit = f"jupyter-{name}-singleuser.service"

    admin = other_page
    log_in(admin, *admin_credentials)
    students_row(admin, name).get_by_role("link", name="Delete").click()
    # the page only asks: nothing is deleted yet
    expect(admin.get_by_role("heading", name=f"Delete the account {name}?")).to_be_visible()
    assert host.file(f"/var/lib/private/{name}/old.txt").exists
    assert host.service(unit).is_running
    admin.get_by_label("Delete the files too").check()
    admin.get_by_role("button", name="Delete").click()
    expect(admin.locator(".alert")).to_contain_text(f"The account {name} and the files were deleted")
    expect(admin.locator(f'tr[data-username="{name}"]')).to_have_count(0)

    assert not host.service(unit).is_running
    assert not host.file(f"/var/lib/private/{name}").exists
    assert not host.file(f"/var/lib/{name}").exists and not host.file(f"/var/lib/{name}").is_symlink
    log_in(page, name)
    expect(login_error(page)).to_contain_text("Wrong username or password")

    # the name is free again, for a fresh start with an empty folder
    new_student(page, name, "fresh-start-66")
    open_lab(page, name, "fresh-start-66")
    assert not host.file(f"/var/lib/private/{name}/old.txt").exists


def test_opening_an_approve_or_discard_address_changes_nothing(page, other_page, admin_credentials):
    """NativeAuthenticator approved, unapproved and discarded accounts on a plain GET:
    a link in a page or an e-mail was enough. Now the page only asks."""
    name = new_student_name("get")
    new_student(page, name)
    admin = other_page
    log_in(admin, *admin_credentials)
    for address in (f"{HUB_URL}/hub/authorize/{name}", f"{HUB_URL}/hub/discard/{name}"):
        answer = admin.goto(address)
        assert answer.status == 200
        expect(admin.locator("form#account-action")).to_be_visible()
    expect(students_row(admin, name)).to_contain_text("active")
    log_in(page, name)
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{name}"), timeout=60_000)


def test_the_teacher_clears_a_lockout_from_the_students_page(page, other_page, admin_credentials):
    name = new_student_name("unl")
    new_student(page, name)
    for _ in range(5):
        log_in(page, name, "wrong-password-1")
    expect(login_error(page)).to_contain_text("Too many wrong passwords")

    admin = other_page
    log_in(admin, *admin_credentials)
    row = students_row(admin, name)
    expect(row).to_contain_text("locked out after wrong passwords")
    row.get_by_role("button", name="Clear lockout").click()
    expect(admin.locator(".alert")).to_contain_text(f"{name} can log in again now")
    expect(admin.locator(f'tr[data-username="{name}"]')).to_contain_text("active")

    log_in(page, name)
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{name}"), timeout=60_000)


def test_an_admin_in_the_inventory_who_is_a_student_stops_the_playbook(host, page):
    """Never promoted silently: the student's account, password and files stay theirs."""
    only_in_the_first_pass(host, "the preflight's check of extra admins")
    name = new_student_name("helper")
    new_student(page, name)
    run = run_site(check=False, jupyterhub_extra_admins=[{"username": name, "password": "helper-secret-1"}])
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0
    assert f"The inventory names {name} as admin" in output
    assert "helper-secret-1" not in output
    log_in(page, name)
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{name}"), timeout=60_000)
    log_in(page, name, "helper-secret-1")
    expect(login_error(page)).to_contain_text("Wrong username or password")

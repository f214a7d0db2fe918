"""Teacher-approval mode: the playbook switches it on, the teacher approves or
discards students from the Control Panel, and the playbook switches it off."""

import re

import pytest
from playwright.sync_api import expect

from tests.box.box import HUB_URL, new_student_name, only_in_the_first_pass
from tests.box.lab import log_in, login_error, sign_up
from tests.box.playbook import run_site


@pytest.fixture
def approval_mode(host):
    only_in_the_first_pass(host, "approval mode")
    # only the hub's part: the setting is the jupyterhub role's (and a whole run takes minutes)
    run_site(tags="jupyterhub", jupyterhub_signup_needs_approval=True)
    yield
    run_site(tags="jupyterhub", jupyterhub_signup_needs_approval=False)


def test_teacher_approves_one_student_and_discards_another(approval_mode, page, other_page, admin_credentials):
    wanted, unwanted = new_student_name("ok"), new_student_name("no")
    for name in (wanted, unwanted):
        status, alert = sign_up(page, name)
        assert status == 200
        expect(alert).to_contain_text("sent to the admin")
    log_in(page, wanted)
    expect(login_error(page)).to_contain_text("waiting for your teacher's approval")

    admin = other_page
    log_in(admin, *admin_credentials)
    admin.goto(f"{HUB_URL}/hub/home")
    admin.get_by_role("link", name="Students").click()
    row = admin.locator(f'tr[data-username="{wanted}"]')
    expect(row).to_contain_text("waiting for approval")
    row.get_by_role("button", name="Approve").click()
    expect(admin).to_have_url(re.compile(r"/hub/authorize"))
    admin.locator("tr", has_text=unwanted).get_by_role("button", name="Discard").click()
    expect(admin.locator("tr", has_text=unwanted)).to_have_count(0)

    log_in(page, wanted)
    expect(page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{wanted}"), timeout=60_000)
    log_in(page, unwanted)
    expect(login_error(page)).to_contain_text("Wrong username or password")

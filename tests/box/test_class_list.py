"""A class in one paste: the teacher pastes the class list on the Students page,
the box makes the accounts and prints one slip per student."""

import re
import secrets
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import expect

from tests.box.box import HUB_URL, Browser, docs_screenshot, new_student_name
from tests.box.lab import (
    PASSWORD,
    change_password,
    hosts_besides_the_box,
    log_in,
    new_student,
    record_requests,
    wait_for_lab,
)
from tests.box.playbook import INVENTORY, run_playbook

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Katherine", "Mary", "Emmy", "Marie", "Rosalind", "Dorothy",
    "Hedy", "Lise", "Chien", "Barbara", "Sophie", "Srinivasa", "Niels", "Carl", "Zoë",
    "Jocelyn", "Vera", "Annie", "Henrietta", "Cecilia", "Edwin", "Tim", "Linus", "Margaret",
]  # fmt: skip


def class_list(tag, existing):
    """A school system's export: 27 new students, two names the box refuses, one who has an account."""
    rows = [f"{first} Tester{tag}{i},9B" for i, first in enumerate(FIRST_NAMES)]
    rows[3:3] = ["admin,9B", "9 Lives,9B"]  # reserved; starts with a digit
    rows.append(f"{existing},9B")
    return "Student,Group\n" + "\n".join(rows) + "\n"


def test_a_pasted_class_gets_accounts_and_a_sheet_of_slips_whose_passwords_log_in(page, other_page, admin_credentials):
    existing = new_student_name("old")
    new_student(other_page, existing)
    tag = secrets.token_hex(2)

    requested = record_requests(page)
    admin, admin_password = admin_credentials
    log_in(page, admin, admin_password)
    page.goto(f"{HUB_URL}/hub/students")
    page.get_by_role("link", name="Add a class").click()
    page.fill("#class-list", class_list(tag, existing))
    expect(page.locator("#must-change")).to_be_checked()
    docs_screenshot(page, "add-a-class")
    page.click("#add-class")

    expect(page.locator("#class-summary")).to_contain_text("27")
    refused = page.locator("#refused li")
    expect(refused).to_have_count(3)
    expect(refused.filter(has_text="9 Lives")).to_have_count(1)
    expect(refused.filter(has_text="admin")).to_have_count(1)
    expect(refused.filter(has_text=existing)).to_contain_text("already has an account")
    slips = page.locator(".slip")
    expect(slips).to_have_count(27)
    docs_screenshot(page, "class-sheet")
    page.emulate_media(media="print")
    docs_screenshot(page, "class-sheet-printed")
    page.emulate_media(media="screen")

    def slip(i):
        return tuple(slips.nth(i).locator(part).inner_text().strip() for part in (".slip-username", ".slip-password"))

    accounts = [slip(i) for i in range(27)]
    assert f"zoe-tester{tag}17" in {name for name, _ in accounts}, "a name with an accent becomes a plain username"
    assert len({password for _, password in accounts}) == 27

    # Every slip's password logs in, and the first stop is choosing one's own.
    def first_login(account):
        status, _ = Browser().post_form("login", username=account[0], password=account[1])
        return status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(first_login, accounts))
    assert statuses == [302] * 27, statuses

    # The existing account kept its password.
    assert Browser().post_form("login", username=existing, password=PASSWORD)[0] == 302

    # A student at a computer: the slip's password, then their own.
    name, password = accounts[0]
    log_in(other_page, name, password)
    expect(other_page).to_have_url(re.compile(r"/hub/change-password"))
    expect(other_page.locator(".alert")).to_contain_text("Choose your own password")
    status, alert = change_password(other_page, password, "quiet-heron-31")
    assert status == 200
    expect(alert).to_contain_text("Your password has been changed")
    # Continue starts their server: JupyterLab.
    other_page.click("#continue")
    wait_for_lab(other_page, name)
    assert Browser().post_form("login", username=name, password="quiet-heron-31")[0] == 302
    assert hosts_besides_the_box(requested) == [], "requests left the box"


def test_a_class_list_from_the_laptop_makes_accounts_and_a_sheet_next_to_the_inventory(tmp_path):
    tag = secrets.token_hex(2)
    names = tmp_path / "class.txt"
    names.write_text(f"Ada Lovelace{tag}\nAlan Turing{tag}\nroot\n")
    made = run_playbook("accounts.yml", class_list=str(names), must_change=False)
    assert "New accounts: 2" in made.stdout, made.stdout[-2000:]
    assert "root" in made.stdout, "the refused line is not listed"
    sheets = sorted((Path(INVENTORY).parent / "accounts").glob("class-sheet-*.html"))
    assert sheets, "no class sheet next to the inventory"
    sheet = sheets[-1]
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600
    slips = dict(re.findall(r'slip-username">([^<]+)<.*?slip-password">([^<]+)<', sheet.read_text(), re.DOTALL))
    assert set(slips) == {f"ada-lovelace{tag}", f"alan-turing{tag}"}
    for password in slips.values():
        assert password not in made.stdout, "a password was printed"
    status, _ = Browser().post_form("login", username=f"ada-lovelace{tag}", password=slips[f"ada-lovelace{tag}"])
    assert status == 302

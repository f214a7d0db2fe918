"""Accounts and students' files survive a rebuild of the hub's venv.

Molecule verifies twice: before and after its side effect (rebuild-venv.yml)
throws the venv away and provisions again. The first pass creates the student
"keeper" and a notebook; the second finds both and logs in with the same
password.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.box.box import HUB_URL, venv_was_rebuilt, wait_until
from tests.box.lab import launcher_notebook, log_in, sign_up

NAME = "keeper"
PASSWORD = "keeper-password-7"
NOTEBOOK = f"/var/lib/private/{NAME}/Untitled.ipynb"


@pytest.mark.rebuild
def test_account_and_files_survive_a_venv_rebuild(host, page):
    rebuilt = venv_was_rebuilt(host)
    status, alert = sign_up(page, NAME, PASSWORD)
    assert status == 200
    if rebuilt:
        expect(alert).to_contain_text("already taken")
        assert host.file(NOTEBOOK).exists, "the student's notebook is gone after the rebuild"
    else:
        expect(alert).to_contain_text("The signup was successful")

    log_in(page, NAME, PASSWORD)
    expect(page).to_have_url(re.compile(rf"{HUB_URL}/user/{NAME}/lab"), timeout=120_000)
    if not rebuilt:
        notebook = launcher_notebook(page)
        expect(notebook).to_be_visible(timeout=120_000)
        notebook.click()
        wait_until(lambda: host.file(NOTEBOOK).exists, 60, f"{NOTEBOOK} was not created")

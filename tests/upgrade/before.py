"""Run by molecule/upgrade/prepare.yml once the first release has provisioned
the box: a class as a teacher leaves it before an upgrade, made through the
real web pages. A student signs up, logs in, writes a file from a notebook and
leaves its kernel running; another signs up and the teacher withdraws their
approval. Then what the upgrade must keep is recorded (tests.upgrade.state).

    python -m tests.upgrade.before    (BOX_URL, BOX_CONTAINER, BOX_ADMIN_PASSWORD,
                                       MOLECULE_EPHEMERAL_DIRECTORY set)
"""

import json
import os
import sys

from playwright.sync_api import expect, sync_playwright

from tests.box.box import BOX_CONTAINER, CHROMIUM, CHROMIUM_ARGS, HUB_URL, patient
from tests.box.lab import log_in, new_notebook, new_student, open_lab, run_cell
from tests.upgrade.state import BLOCKED, CONTENT, PASSWORD, SERVER_UNIT, STUDENT, box_state, on_box, record_path


def leave_a_class(browser):
    student = browser.new_context().new_page()
    student.set_default_timeout(patient(30_000))
    new_student(student, STUDENT, PASSWORD)
    open_lab(student, STUDENT, PASSWORD)
    new_notebook(student)
    written = run_cell(student, f"print(open('kept.txt', 'w').write({CONTENT!r}))")
    assert written.strip() == str(len(CONTENT)), written
    # The browser closes; the server and its kernel keep running through the upgrade.

    other = browser.new_context().new_page()
    new_student(other, BLOCKED, PASSWORD)

    teacher = browser.new_context().new_page()
    log_in(teacher, "admin", os.environ["BOX_ADMIN_PASSWORD"])
    # The first release's Control Panel > Authorize users: each name's link toggles its approval.
    teacher.goto(f"{HUB_URL}/hub/authorize")
    expect(teacher.locator("tr", has_text=BLOCKED)).to_be_visible()
    teacher.goto(f"{HUB_URL}/hub/authorize/{BLOCKED}")


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        leave_a_class(browser)
        browser.close()

    state = box_state(BOX_CONTAINER)
    approval = {name: authorized for name, _, authorized in state["users_info"]}
    if state["file"]["content"] != CONTENT or approval.get(STUDENT) != 1 or approval.get(BLOCKED) != 0:
        sys.exit(f"the class before the upgrade is not as meant: {state}")
    # a running server with a running kernel: their processes are in the student's unit
    kernels = on_box(
        BOX_CONTAINER, "sh", "-c", f"systemctl status -l --no-pager {SERVER_UNIT} | grep -c ipykernel_launcher || true"
    )
    if kernels == "0":
        sys.exit(f"{STUDENT}'s kernel is not running before the upgrade")
    state["server_pid"] = on_box(BOX_CONTAINER, "systemctl", "show", "-p", "MainPID", "--value", SERVER_UNIT)
    record_path().write_text(json.dumps(state, indent=1))
    print(f"recorded {record_path()}: {len(state['users_info'])} accounts, kernels running: {kernels}")


if __name__ == "__main__":
    main()

"""Privacy, probed from inside students' own notebooks, and the memory limit."""

import ast

from conftest import HUB_URL, new_student_name
from lab import new_notebook, new_student, open_lab, run_cell
from playwright.sync_api import expect

PROBE = """
import os, subprocess
seen = {{}}
def attempt(key, action):
    try:
        action()
        seen[key] = "allowed"
    except (PermissionError, FileNotFoundError, subprocess.CalledProcessError) as error:
        seen[key] = type(error).__name__
try:
    seen["private_listing"] = sorted(os.listdir("/var/lib/private"))
except PermissionError:
    seen["private_listing"] = []
attempt("list_other", lambda: os.listdir("/var/lib/private/{other}"))
attempt("read_other", lambda: open("/var/lib/private/{other}/secret.txt").read())
attempt("read_other_link", lambda: open("/var/lib/{other}/secret.txt").read())
attempt("read_hub_db", lambda: open("/var/lib/jupyterhub/jupyterhub.sqlite", "rb").read(1))
attempt("become_root", lambda: os.setuid(0))
attempt("sudo", lambda: subprocess.run(["sudo", "-n", "true"], check=True, capture_output=True))
seen["other_tmp_visible"] = os.path.exists("/tmp/{other}-note.txt")
print(sorted(seen.items()))
"""


def two_students_with_a_notebook_each(page, other_page):
    """Two students at two computers, each in a new notebook; returns their names."""
    first, second = new_student_name("one"), new_student_name("two")
    for name, person in ((first, page), (second, other_page)):
        new_student(person, name)
        open_lab(person, name)
        new_notebook(person)
    return first, second


def test_a_student_cannot_reach_another_students_files_server_or_root(page, other_page):
    owner, prober = two_students_with_a_notebook_each(page, other_page)
    run_cell(page, f"print(open('secret.txt', 'w').write('mine'), open('/tmp/{owner}-note.txt', 'w').write('x'))")

    other = other_page
    seen = dict(ast.literal_eval(run_cell(other, PROBE.format(other=owner))))
    # systemd shows each student's unit only its own folder in /var/lib/private
    assert owner not in seen["private_listing"], seen
    assert seen["list_other"] != "allowed", seen
    assert seen["read_other"] != "allowed"
    assert seen["read_other_link"] != "allowed"
    assert seen["read_hub_db"] != "allowed"
    assert seen["become_root"] == "PermissionError"
    assert seen["sudo"] != "allowed"
    assert seen["other_tmp_visible"] is False

    # The other student's server answers "forbidden", and shows nothing of theirs.
    answer = other.goto(f"{HUB_URL}/user/{owner}/api/contents")
    assert answer.status == 403
    assert "secret.txt" not in other.content()


def test_a_runaway_notebook_loses_its_kernel_and_nobody_else_notices(page, other_page):
    two_students_with_a_notebook_each(page, other_page)
    other = other_page
    cells = other.locator(".jp-Notebook .jp-Cell")
    cells.last.locator(".cm-content").click()
    other.keyboard.type("hog = b'x' * (4 * 1024 ** 3)  # 4 GB, past the limit and the swap allowed")
    other.keyboard.press("Shift+Enter")
    expect(other.get_by_text("appears to have died")).to_be_visible(timeout=120_000)

    # the hub and the other student carry on
    assert page.request.get(f"{HUB_URL}/hub/api").ok
    assert run_cell(page, "print(sum(range(10)))").strip() == "45"

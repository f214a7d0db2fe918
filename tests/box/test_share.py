"""Share a copy: a student shares a notebook by a short link from JupyterLab's
file browser; a classmate reads it, opens a copy of their own and changes it;
the sender's folder stays private; the teacher withdraws links; links expire;
a file too big is refused with a sentence. Nothing leaves the box.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.box.box import BOX_CONTAINER, BOX_URL, HUB_URL, docs_screenshot, new_student_name, patient, wait_until
from tests.box.lab import (
    PASSWORD,
    hosts_besides_the_box,
    log_in,
    new_student,
    open_lab,
    record_requests,
    run_cell,
)

SHARED = "orbits.ipynb"
FIRST_SENTENCE = "Kepler's third law: the square of the period grows as the cube of the orbit."
LATER_SENTENCE = "A change made after the link: nobody who has the link sees it."
CODE = re.compile(r"/jupyterhub/s/([2-9a-hjkmnp-z]{3}-[2-9a-hjkmnp-z]{3})$")


def notebook(*markdown, code="print(6 * 7)", output="42\n"):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    cells.append(
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "source": code,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": output}],
        }
    )
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return {"cells": cells, "metadata": kernel, "nbformat": 4, "nbformat_minor": 5}


def from_lab(page, method, url, body=None):
    """A request from JupyterLab's page, made as JupyterLab makes it (its _xsrf cookie as a header): (status, text)."""
    return page.evaluate(
        """async ([method, url, body]) => {
            const xsrf = document.cookie.match(/_xsrf=([^;]+)/)[1];
            const answer = await fetch(url, {method, headers: {'X-XSRFToken': xsrf}, body});
            return [answer.status, await answer.text()];
        }""",
        [method, url, body],
    )


def put_file(page, username, path, model):
    """Save a file through the student's own server, as JupyterLab does (its contents API)."""
    status, answer = from_lab(page, "PUT", f"{HUB_URL}/user/{username}/api/contents/{path}", json.dumps(model))
    assert status in (200, 201), f"saving {path} answered {status}: {answer}"


def share_from_file_browser(page, name):
    """Right-click the file in JupyterLab's file browser, Share a copy; the dialog."""
    page.locator('[data-command="filebrowser:refresh"]').first.click()
    item = page.locator(
        ".jp-DirListing-item", has=page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$"))
    )
    item.click(button="right")
    share = page.locator(".lm-Menu-item", has_text="Share a copy")
    expect(share).to_be_visible()
    # JupyterLab's own "Copy Shareable Link" is off: it opened the classmate's own file of that name.
    expect(page.locator(".lm-Menu-item", has_text="Copy Shareable Link")).to_have_count(0)
    share.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=patient(30_000))
    return dialog


def share_link(page, name):
    dialog = share_from_file_browser(page, name)
    link = dialog.locator("input.classbox-share-link")
    expect(link).to_have_value(CODE, timeout=patient(30_000))
    return dialog, link.input_value()


def on_the_box(*command):
    import subprocess

    return subprocess.run(["docker", "exec", BOX_CONTAINER, *command], capture_output=True, text=True, timeout=60)


def file_facts(host, path):
    facts = host.run(f"stat -c '%s %Y %u' {path} && sha256sum {path}")
    assert facts.rc == 0, facts.stderr
    return facts.stdout


@pytest.mark.offline
def test_a_shared_copy_is_read_and_copied_by_a_classmate_and_the_senders_folder_stays_private(
    host, page, other_page, browser, admin_credentials
):
    anna, ben = new_student_name("anna"), new_student_name("ben")
    requested = record_requests(page)
    requested += record_requests(other_page)
    new_student(page, anna)
    new_student(other_page, ben)

    # Anna has a notebook to share and a file she keeps to herself.
    open_lab(page, anna)
    put_file(page, anna, SHARED, {"type": "notebook", "content": notebook("# Orbits", FIRST_SENTENCE)})
    put_file(page, anna, "diary.txt", {"type": "file", "format": "text", "content": "mine only"})
    original = f"/var/lib/private/{anna}/{SHARED}"
    anna_before = file_facts(host, original)

    # Share a copy, from the file browser's menu: a short link, and a button to copy it.
    dialog, link = share_link(page, SHARED)
    expect(dialog).to_contain_text("Anyone logged in on this box who has this link")
    expect(dialog.get_by_role("button", name="Copy link")).to_be_visible()
    docs_screenshot(page, "share-dialog", full_page=False)
    dialog.get_by_role("button", name="Copy link").click()
    code = CODE.search(link)[1]
    assert link == f"{BOX_URL}/jupyterhub/s/{code}"

    # What Anna changes after the link is not in it.
    put_file(page, anna, SHARED, {"type": "notebook", "content": notebook("# Orbits", LATER_SENTENCE)})

    # Ben, not logged in yet, opens the link: the login page first, then back to the link.
    other_page.context.clear_cookies()
    other_page.goto(link)
    expect(other_page).to_have_url(re.compile(r"/hub/login"))
    other_page.fill("#username_input", ben)
    other_page.fill("#password_input", PASSWORD)
    other_page.click("#login_submit")
    expect(other_page).to_have_url(f"{HUB_URL}/hub/s/{code}", timeout=patient(30_000))
    expect(other_page.locator("#share-title")).to_have_text(SHARED)
    expect(other_page.locator("#share-about")).to_contain_text(f"Shared by {anna}")
    view = other_page.frame_locator("#share-view")
    expect(view.locator("body")).to_contain_text(FIRST_SENTENCE)
    expect(view.locator("body")).to_contain_text("42")
    expect(view.locator("body")).not_to_contain_text(LATER_SENTENCE)
    docs_screenshot(other_page, "share-view", full_page=False)

    # The view is a page that runs nothing: a sandboxed frame, a policy that forbids scripts.
    answer = other_page.request.get(f"{HUB_URL}/hub/s/{code}/view")
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert other_page.locator("#share-view").get_attribute("sandbox") == ""

    # Open a copy: Ben's own server starts, writes the copy into his folder as Ben, and opens it.
    other_page.click("#open-copy")
    copy_name = f"{anna}-{SHARED}"
    expect(other_page).to_have_url(
        f"{HUB_URL}/user/{ben}/lab/tree/shared-with-me/{copy_name}", timeout=patient(180_000)
    )
    copied = other_page.locator(".jp-NotebookPanel:visible .jp-Notebook")
    expect(copied).to_contain_text(FIRST_SENTENCE, timeout=patient(60_000))
    expect(other_page.get_by_text(re.compile(r"^Python 3.* \| Idle$")).first).to_be_visible(timeout=patient(60_000))
    copy_path = f"/var/lib/private/{ben}/shared-with-me/{copy_name}"
    ben_uid = host.file(f"/var/lib/private/{ben}").uid
    assert host.file(copy_path).uid == ben_uid, "the copy is written as Ben, not as root"

    # Ben changes his copy and saves it; Anna's notebook is as she left it.
    copied.locator(".jp-Cell").last.click()
    other_page.keyboard.press("Escape")
    other_page.keyboard.press("b")
    assert run_cell(other_page, "print('Ben was here')").strip() == "Ben was here"
    other_page.keyboard.press("Control+s")
    # (the dirty mark is on the tab, not in the panel: the saved file is what counts)
    wait_until(lambda: "Ben was here" in host.file(copy_path).content_string, patient(30_000) / 1000, "Ben's save")
    anna_now = json.loads(host.file(original).content_string)
    assert LATER_SENTENCE in "".join(anna_now["cells"][1]["source"])
    assert "Ben was here" not in host.file(original).content_string

    # The link gives Ben that snapshot and nothing else: Anna's folder and server stay closed to him.
    snapshot = other_page.request.get(f"{HUB_URL}/hub/api/classbox/shares/{code}/copy")
    assert snapshot.ok and FIRST_SENTENCE in snapshot.text() and LATER_SENTENCE not in snapshot.text()
    # A picture or a frame pointing at Ben's "open a copy" makes no copy: only a page he navigates to does.
    for destination in ("image", "iframe"):
        answer = other_page.request.get(
            f"{HUB_URL}/user/{ben}/classbox-share/open/{code}", headers={"Sec-Fetch-Dest": destination}
        )
        assert answer.status == 403
    assert host.run(f"ls /var/lib/private/{ben}/shared-with-me").stdout.split() == [copy_name]
    for url in (f"{HUB_URL}/user/{anna}/api/contents/diary.txt", f"{HUB_URL}/user/{anna}/files/diary.txt"):
        status = other_page.request.get(url, max_redirects=0).status
        assert status in (302, 403), f"{url} answered {status} to Ben"
    probe = run_cell(
        other_page,
        f"import os; print([os.access(p, os.R_OK) for p in ('/var/lib/{anna}/diary.txt', "
        f"'/var/lib/private/{anna}/diary.txt', '/var/lib/jupyterhub/shares')])",
    )
    assert probe.strip() == "[False, False, False]"

    # Anna sees her link and that one person opened a copy.
    page.goto(f"{HUB_URL}/hub/shares")
    row = page.locator(f'#share-links tr[data-code="{code}"]')
    expect(row).to_contain_text(SHARED)
    expect(row.locator("td").nth(4)).to_have_text("1")

    # The teacher withdraws it from the Students page; the link says so.
    admin, admin_password = admin_credentials
    teacher = browser.new_context().new_page()
    try:
        log_in(teacher, admin, admin_password)
        teacher.goto(f"{HUB_URL}/hub/students")
        teacher_row = teacher.locator(f'#share-links tr[data-code="{code}"]')
        expect(teacher_row).to_contain_text(anna)
        teacher_row.get_by_role("button", name="Withdraw").click()
        expect(teacher.locator("#result")).to_contain_text(f"The link {code} is withdrawn")
    finally:
        teacher.context.close()
    other_page.goto(link)
    expect(other_page.locator("#share-problem")).to_have_text("This link was withdrawn by its owner.")
    assert not host.file(f"/var/lib/jupyterhub/shares/{code}.data").exists

    # An expired link says so too (the link's end moved to the past, as if a week went by).
    page.goto(f"{HUB_URL}/user/{anna}/lab")
    _, second_link = share_link(page, "diary.txt")
    page.keyboard.press("Escape")
    second_code = CODE.search(second_link)[1]
    moved = on_the_box(
        "/usr/bin/python3",
        "-c",
        "import sqlite3, sys; db = sqlite3.connect('/var/lib/jupyterhub/shares/shares.sqlite');"
        " db.execute('UPDATE shares SET expires = unixepoch() - 1 WHERE code = ?', (sys.argv[1],)); db.commit()",
        second_code,
    )
    assert moved.returncode == 0, moved.stderr
    other_page.goto(second_link)
    expect(other_page.locator("#share-problem")).to_contain_text(
        f"This link has expired: links last 7 days. Ask {anna} for a new one."
    )

    # A file of 25 MB is refused with a sentence that says why.
    page.goto(f"{HUB_URL}/user/{anna}/lab")
    put_file(page, anna, "big-data.csv", {"type": "file", "format": "text", "content": "x" * 25_000_000})
    dialog = share_from_file_browser(page, "big-data.csv")
    expect(dialog).to_contain_text("big-data.csv is 25 MB: a shared copy may be at most 20 MB")
    assert file_facts(host, original) != anna_before  # Anna's own later save, not anyone else's
    assert host.file(original).uid == host.file(f"/var/lib/private/{anna}").uid

    # Making links faster than the box allows (20 in ten minutes) gets a sentence, not a link.
    share_url = f"{HUB_URL}/user/{anna}/classbox-share/share"
    statuses = []
    while len(statuses) < 25 and statuses[-1:] != [429]:
        status, answer = from_lab(page, "POST", share_url, json.dumps({"path": "diary.txt"}))
        statuses.append(status)
    assert statuses == [201] * 18 + [429], statuses
    assert json.loads(answer)["message"].startswith("You made 20 links in the last ten minutes")

    assert hosts_besides_the_box(requested) == []

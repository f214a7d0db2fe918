"""Homework in and feedback back: playbooks/collect.yml, the Students page's
Collect button, and playbooks/return.yml, on three students, one of whom
handed in nothing."""

import csv
import io
import re
import tarfile

from playwright.sync_api import expect

from tests.box.box import HUB_URL, Browser, docs_screenshot, new_student_name
from tests.box.lab import PASSWORD, hosts_besides_the_box, log_in, record_requests
from tests.box.playbook import run_playbook

# A dynamic user's id, as systemd gives a student's folder (61184-65519).
STUDENT_UID = 64321


def make_students(host, tag, assignment):
    """Three accounts with folders as their servers leave them: anna handed in two
    files (in the lesson's copy), ben one (in a folder of his own), carl nothing."""
    names = {who: f"{who}{tag}" for who in ("anna", "ben", "carl")}
    for name in names.values():
        assert Browser().post_form("signup", username=name, signup_password=PASSWORD,
                                   signup_password_confirmation=PASSWORD)[0] == 200  # fmt: skip
    files = {
        "anna": {
            f"lessons/{assignment}/planets.ipynb": '{"cells": []}',
            f"lessons/{assignment}/answers.txt": "Jupiter",
        },
        "ben": {f"{assignment}/answers.txt": "Saturn"},
        "carl": {"notes/other.txt": "not the homework"},
    }
    for who, name in names.items():
        home = f"/var/lib/private/{name}"
        for path, content in files[who].items():
            host.run_expect([0], f"mkdir -p {home}/{path.rsplit('/', 1)[0]} && printf %s '{content}' > {home}/{path}")
        host.run_expect([0], f"chown -R {STUDENT_UID}:{STUDENT_UID} {home}")
    return names


def listing(host, names):
    return {
        name: host.check_output(f"find /var/lib/private/{name} -printf '%p %s %T@ %C@\\n' | sort") for name in names
    }


def handed_in(csv_text):
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    return {(row["student"], row["handed_in"], row["file"]) for row in rows}


def test_collect_gathers_each_students_copy_and_says_who_handed_in_nothing(host, tmp_path, page, admin_credentials):
    tag = new_student_name("")
    # A name of its own: other tests' students have a lessons/week1 too.
    assignment = f"week{tag}"
    names = make_students(host, tag, assignment)
    before = listing(host, names.values())

    collected = run_playbook("collect.yml", assignment=assignment, homework_fetch_dir=str(tmp_path))
    assert "Nothing from:" in collected.stdout
    archives = list(tmp_path.glob(f"homework-{assignment}-*.tar.gz"))
    assert len(archives) == 1, list(tmp_path.iterdir())
    with tarfile.open(archives[0]) as tar:
        members = tar.getnames()
        table = tar.extractfile(f"{assignment}/handed-in.csv").read().decode()
    assert f"{assignment}/{names['anna']}/answers.txt" in members
    assert f"{assignment}/{names['anna']}/planets.ipynb" in members
    assert f"{assignment}/{names['ben']}/answers.txt" in members
    assert not [member for member in members if names["carl"] in member], members
    rows = handed_in(table)
    assert (names["anna"], "yes", "answers.txt") in rows
    assert (names["ben"], "yes", "answers.txt") in rows
    assert (names["carl"], "no", "") in rows
    assert not [row for row in rows if row[0] == admin_credentials[0]], "the teacher is not a student"
    unpacked = archives[0].with_name(archives[0].name.removesuffix(".tar.gz"))
    assert (unpacked / assignment / names["ben"] / "answers.txt").read_text() == "Saturn"
    assert listing(host, names.values()) == before, "collecting changed a student's files"

    # The same from the Students page, as a download.
    requested = record_requests(page)
    admin, admin_password = admin_credentials
    log_in(page, admin, admin_password)
    page.goto(f"{HUB_URL}/hub/students")
    page.fill("#assignment", assignment)
    docs_screenshot(page, "collect", full_page=False)  # the form, not every student
    page.click("#collect")
    expect(page.locator("#result")).to_contain_text(re.compile(r"2 of \d+ students handed in"))
    docs_screenshot(page, "collected")
    with page.expect_download() as download:
        page.click("#download")
    archive = tmp_path / download.value.suggested_filename
    download.value.save_as(archive)
    with tarfile.open(archive) as tar:
        assert handed_in(tar.extractfile(f"{assignment}/handed-in.csv").read().decode()) == rows
    assert hosts_besides_the_box(requested) == [], "requests left the box"

    # Feedback goes back into anna's folder, written as anna; again changes nothing.
    feedback = tmp_path / "feedback"
    (feedback / names["anna"]).mkdir(parents=True)
    (feedback / names["anna"] / "comments.md").write_text("Well done: Jupiter it is.\n")
    returned = run_playbook("return.yml", assignment=assignment, homework_feedback_dir=str(feedback))
    assert "changed=1" in returned.stdout, returned.stdout[-2000:]
    written = host.file(f"/var/lib/private/{names['anna']}/feedback/{assignment}/comments.md")
    assert written.content_string == "Well done: Jupiter it is.\n"
    assert (written.uid, written.gid) == (STUDENT_UID, STUDENT_UID)
    again = run_playbook("return.yml", assignment=assignment, homework_feedback_dir=str(feedback))
    assert "changed=0" in again.stdout, again.stdout[-2000:]

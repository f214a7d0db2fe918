"""Lessons out: the teacher publishes a folder, each student opens a lesson in
their own copy, and a later update merges with the student's edits.

The scenarios publish the demo inventory's lessons (inventory/demo/course:
lessons/week1/planets.ipynb, shared/planets.csv) in site.yml.
"""

import json
import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.box.box import BOX_URL, HUB_URL, docs_screenshot, new_student_name, patient, wait_until
from tests.box.lab import (
    hosts_besides_the_box,
    log_in,
    new_student,
    record_requests,
    run_cell,
)
from tests.box.playbook import PROJECT, run_playbook

LESSONS = PROJECT / "inventory" / "demo" / "course" / "lessons"
LESSON = "week1/planets.ipynb"
TITLE = "Week 1: The planets"
QUESTION = "Which planet is the largest?"
UPDATE = "Which planet is the largest? Then: which is the smallest?"


def open_lesson(page, username, link):
    """Click a lesson's link; wait until the notebook is open in the student's JupyterLab."""
    link.click()
    expect(page).to_have_url(f"{HUB_URL}/user/{username}/lab/tree/lessons/{LESSON}", timeout=patient(120_000))
    notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
    expect(notebook).to_contain_text(TITLE, timeout=patient(60_000))
    # A person waits until the kernel is ready; a cell run before that is dropped.
    expect(page.get_by_text(re.compile(r"^Python 3.* \| Idle$")).first).to_be_visible(timeout=patient(60_000))
    return notebook


def students_copy(host, username):
    path = f"/var/lib/private/{username}/lessons/{LESSON}"
    return json.loads(host.file(path).content_string) if host.file(path).exists else None


def sources(notebook):
    return ["".join(cell["source"]) for cell in notebook["cells"]]


@pytest.mark.offline
def test_a_lesson_opens_in_the_students_own_copy_and_a_second_click_merges_the_teachers_update(host, page, tmp_path):
    requested = record_requests(page)
    username = new_student_name("lesson")
    new_student(page, username)
    log_in(page, username)

    # The hub's Lessons page lists what the teacher published.
    page.goto(f"{HUB_URL}/hub/lessons")
    docs_screenshot(page, "lessons")
    notebook = open_lesson(page, username, page.get_by_role("link", name=TITLE))

    # The data in shared/ is read by the lesson, and nobody can change it.
    notebook.locator(".jp-Cell").nth(1).click()
    page.keyboard.press("Shift+Enter")
    expect(notebook.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")).to_contain_text(
        "Jupiter", timeout=patient(60_000)
    )
    notebook.locator(".jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # a new cell below: the student's own work
    refused = run_cell(page, 'open("../../shared/my-planets.csv", "w")')
    assert "Read-only file system" in refused
    docs_screenshot(page, "lesson-open")

    # A classmate's link cannot make this student's server pull anything else, or anywhere else.
    lessons = "file%3A%2F%2F%2Fsrv%2Fclassbox%2Flessons.git"
    for query in (
        "repo=file%3A%2F%2F%2Fetc&targetpath=lessons",
        f"repo={lessons}&targetpath=.ipython%2Fprofile_default%2Fstartup",
        f"repo={lessons}&targetpath=lessons&repo=http%3A%2F%2F127.0.0.1%3A9%2Fx.git",
    ):
        answer = page.request.get(f"{HUB_URL}/user/{username}/git-pull/api?_xsrf=x&{query}")
        assert answer.status == 403, query
    page.keyboard.press("Control+s")
    wait_until(
        lambda: "my-planets" in "".join(sources(students_copy(host, username) or {"cells": []})),
        30,
        "the student's edit was saved in their copy",
    )
    assert not host.file("/srv/classbox/shared/my-planets.csv").exists

    # The teacher changes another cell and publishes again (playbooks/course.yml).
    update = tmp_path / "lessons"
    shutil.copytree(LESSONS, update)
    lesson = json.loads((update / LESSON).read_text())
    changed = [i for i, text in enumerate(sources(lesson)) if QUESTION in text]
    assert changed, f"the demo lesson has no cell that asks {QUESTION!r}"
    lesson["cells"][changed[0]]["source"] = [UPDATE]
    (update / LESSON).write_text(json.dumps(lesson, indent=1) + "\n")
    try:
        published = run_playbook("course.yml", course_lessons_dir=str(update))
        assert "changed=0" not in published.stdout, published.stdout[-2000:]
        click_again_and_find_both(host, page, username)
    finally:
        run_playbook("course.yml")  # the scenario's lessons again: a later site.yml run changes nothing
    assert hosts_besides_the_box(requested) == [], "requests left the box"


def click_again_and_find_both(host, page, username):
    """The landing page's link, clicked again: the update and the student's cell, both."""
    page.goto(f"{BOX_URL}/")
    notebook = open_lesson(page, username, page.get_by_role("link", name=TITLE))
    expect(notebook).to_contain_text(UPDATE)
    expect(notebook).to_contain_text("my-planets.csv")
    merged = sources(students_copy(host, username))
    assert UPDATE in merged
    assert any("my-planets.csv" in text for text in merged)


def test_the_lessons_repository_is_served_read_only_for_a_clone_on_a_laptop(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("this machine has no git")
    clone = tmp_path / "lessons"
    subprocess.run(["git", "clone", "--quiet", f"{BOX_URL}/git/lessons", str(clone)], check=True, timeout=120)
    assert (clone / LESSON).is_file()
    pushed = subprocess.run(
        ["git", "-C", str(clone), "push", "--quiet", "origin", "HEAD:refs/heads/mine"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pushed.returncode != 0, "a push to the box's lessons was accepted"

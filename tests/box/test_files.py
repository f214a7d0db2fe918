"""A student uploads a notebook and downloads their work through JupyterLab."""

import json

from playwright.sync_api import expect

from tests.box.box import new_student_name
from tests.box.lab import new_student, open_lab

NOTEBOOK = {
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Homework 1"]}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_upload_then_download_a_notebook(host, page, tmp_path):
    name = new_student_name("file")
    new_student(page, name)
    open_lab(page, name)

    upload = tmp_path / "homework1.ipynb"
    upload.write_text(json.dumps(NOTEBOOK))
    with page.expect_file_chooser() as chooser:
        page.locator('.jp-FileBrowser-toolbar [title="Upload Files"]').first.click()
    chooser.value.set_files(str(upload))
    item = page.locator(".jp-DirListing-item", has_text="homework1.ipynb")
    expect(item).to_be_visible(timeout=30_000)
    on_box = host.file(f"/var/lib/private/{name}/homework1.ipynb")
    assert json.loads(on_box.content_string)["cells"][0]["source"] == ["# Homework 1"]

    select_kernel = page.get_by_role("button", name="Select", exact=True)
    if select_kernel.is_visible():
        select_kernel.click()
    item.click(button="right")
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Download", exact=True).click()
    downloaded = json.loads(open(download.value.path()).read())
    assert downloaded["cells"][0]["source"] in (["# Homework 1"], "# Homework 1")

"""The course's Python: the teacher's packages in every student's kernel.

The scenarios give the box the demo inventory's locks of the default packages
(numpy, pandas, matplotlib) and course_name "Physics 9B"
(.config/molecule/config.yml).
"""

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile

import pytest
from playwright.sync_api import expect

from classbox.bundle import project_key
from tests.box.box import BOX_URL, COURSE, HUB_URL, new_student_name, only_in_the_first_pass, patient
from tests.box.lab import (
    PASSWORD,
    change_password,
    hosts_besides_the_box,
    launcher_notebook,
    new_notebook,
    new_student,
    open_lab,
    record_requests,
    run_cell,
)
from tests.box.playbook import PROJECT, run_site

KERNEL = "Python 3 (Physics 9B)"
DEMO_LOCKS = PROJECT / "inventory" / "demo" / "course"


def pins(text):
    """name (as PyPI compares them) -> version of a lock's or pip freeze's text."""
    found = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.MULTILINE)
    return {project_key(name): version for name, version in found}


def locked_for_the_box(host):
    """The versions the controller locked for the box's Python (requirements.txt
    holds every Python's: numpy 2.4 for 3.11 and 2.5 for 3.12 and newer)."""
    python = host.check_output("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'")
    return pins((DEMO_LOCKS / f"requirements-python{python}.txt").read_text())


def current_environment(host):
    return host.file(f"{COURSE}/current").linked_to.rsplit("/", 1)[-1]


@pytest.mark.smoke
def test_a_students_first_lesson_runs_the_courses_packages_and_asks_nothing_of_another_host(host, page):
    """The smoke set's one whole session in a browser, which every scenario runs
    (the Raspberry Pi's under emulation, where each server start costs a
    minute): signing up from the login page, JupyterLab with the course's one
    Python in the student's own folder, its packages and a plot, a new
    password; and not one request to a host other than the box."""
    requested = record_requests(page)
    page.goto(f"{BOX_URL}/")
    page.goto(f"{HUB_URL}/")
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/login"))
    page.get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/jupyterhub/hub/signup"))
    username = new_student_name("course")
    new_student(page, username)
    open_lab(page, username)
    # The offline box never asks about Jupyter news.
    expect(page.get_by_text("Would you like to get notified")).to_have_count(0)
    # the launcher offers one Python: the course's, not the hub's venv
    page.locator('[data-command="launcher:create"]').first.click()
    expect(page.locator('.jp-LauncherCard[data-category="Notebook"]:visible')).to_have_count(1)
    expect(launcher_notebook(page)).to_contain_text(KERNEL)
    page.keyboard.press("Escape")
    new_notebook(page)

    environment = current_environment(host)
    lock = locked_for_the_box(host)
    printed = run_cell(
        page,
        "import os, sys, numpy, pandas, matplotlib; "
        "print(os.getcwd(), sys.prefix, numpy.__version__, pandas.__version__, matplotlib.__version__)",
    )
    assert printed.split() == [
        f"/var/lib/private/{username}",
        f"{COURSE}/{environment}",
        lock["numpy"],
        lock["pandas"],
        lock["matplotlib"],
    ]
    run_cell(page, "import matplotlib.pyplot as plt; plt.plot([1, 4, 9]); plt.show()")
    plot = page.locator(".jp-Notebook .jp-Cell").nth(-2).locator(".jp-OutputArea-output img")
    expect(plot).to_be_visible(timeout=patient(60_000))
    assert plot.get_attribute("src").startswith("data:image/png")

    page.goto(f"{HUB_URL}/hub/home")
    page.get_by_role("link", name="Change password").click()
    status, alert = change_password(page, PASSWORD, "quiet-heron-31")
    assert status == 200
    expect(alert).to_contain_text("Your password has been changed")

    assert len(requested) > 50, f"only {len(requested)} requests were recorded"
    assert any(url.startswith(("ws://", "wss://")) for url in requested), "no kernel websocket seen"
    assert hosts_besides_the_box(requested) == [], "requests left the box"


@pytest.mark.smoke
def test_the_box_installs_the_lock_the_controller_made_and_offers_it_for_home(host):
    environment = current_environment(host)
    controllers = (DEMO_LOCKS / "requirements.txt").read_text()
    assert host.file(f"{COURSE}/{environment}/requirements.txt").content_string == controllers
    assert host.file(f"{COURSE}/{environment}/.classbox-complete").exists
    # exactly the versions the controller locked for this box's Python
    locked = locked_for_the_box(host)
    assert {"numpy", "pandas", "matplotlib", "ipykernel"} <= set(locked)
    installed = pins(host.check_output(f"{COURSE}/{environment}/bin/python -m pip freeze --all"))
    for tool in ("pip", "setuptools"):  # what python3 -m venv puts in (setuptools: Python 3.11's)
        installed.pop(tool, None)
    assert installed == locked
    kernel = json.loads(host.file(f"{COURSE}/jupyter/kernels/python3/kernel.json").content_string)
    assert kernel["display_name"] == KERNEL
    # the landing page's link: the same lock, as a download
    with urllib.request.urlopen(f"{BOX_URL}/requirements.txt", timeout=10) as answer:
        assert answer.read().decode() == controllers
        assert "attachment" in answer.headers["Content-Disposition"]
    with urllib.request.urlopen(f"{BOX_URL}/", timeout=10) as answer:
        assert 'href="/requirements.txt"' in answer.read().decode()


def test_the_downloaded_requirements_install_at_home(tmp_path):
    # "home": this computer, another Python than the box's (the test runner's),
    # a clean venv, the file as the landing page gives it
    downloaded = tmp_path / "requirements.txt"
    with urllib.request.urlopen(f"{BOX_URL}/requirements.txt", timeout=10) as answer:
        downloaded.write_bytes(answer.read())
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    install = subprocess.run(
        [home / "bin" / "pip", "install", "--quiet", "--require-hashes", "--only-binary=:all:", "-r", downloaded],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    code = "import numpy, pandas, matplotlib; print(pandas.Series(numpy.arange(3)).sum())"
    ran = subprocess.run([home / "bin" / "python", "-c", code], capture_output=True, text=True, timeout=120)
    assert ran.stdout.strip() == "3", ran.stderr[-3000:]


def test_a_folder_downloads_as_a_zip_and_an_archive_is_not_extracted(host, page, tmp_path):
    username = new_student_name("zip")
    new_student(page, username)
    open_lab(page, username)
    new_notebook(page)
    run_cell(
        page,
        "import os, zipfile; os.makedirs('week3', exist_ok=True); open('week3/data.csv', 'w').write('x,y\\n1,2\\n'); "
        "zipfile.ZipFile('given.zip', 'w').writestr('../../escape.txt', 'out'); print('made')",
    )
    page.locator('[data-command="filebrowser:refresh"]').first.click()
    folder = page.locator('.jp-DirListing-item[data-isdir="true"]', has_text="week3")
    expect(folder).to_be_visible(timeout=patient(30_000))
    folder.click(button="right")
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="Download as an Archive").click()
    saved = tmp_path / "week3.zip"
    shutil.copyfile(download.value.path(), saved)
    with zipfile.ZipFile(saved) as archive:
        assert archive.read("week3/data.csv").decode() == "x,y\n1,2\n"
    # Extract is refused by the box: the student gets an error, nothing is unpacked
    archive_item = page.locator(".jp-DirListing-item", has_text="given.zip")
    archive_item.click(button="right")
    page.get_by_role("menuitem", name=re.compile("Extract")).click()
    expect(page.get_by_role("dialog")).to_contain_text("Extract is off on this box", timeout=patient(10_000))
    page.keyboard.press("Escape")
    answer = page.request.get(f"{HUB_URL}/user/{username}/extract-archive/given.zip")
    assert answer.status == 403
    assert answer.json()["reason"].startswith("Extract is off on this box")
    assert not host.file(f"/var/lib/private/{username}/escape.txt").exists


def test_new_packages_are_built_beside_and_a_running_kernel_keeps_its_own(host, page, tmp_path):
    only_in_the_first_pass(host, "a change of the course's packages")
    locks = tmp_path / "course"
    shutil.copytree(DEMO_LOCKS, locks)  # the test's own: the demo's stay as they are
    username = new_student_name("kernel")
    new_student(page, username)
    open_lab(page, username)
    new_notebook(page)
    before = current_environment(host)
    assert run_cell(page, "import sys; print(sys.prefix)").strip() == f"{COURSE}/{before}"

    more = {"classbox_course_lock_dir": str(locks), "course_packages": ["numpy", "pandas", "matplotlib", "sympy"]}
    changed = run_site(check=False, tags="course", **more)
    assert changed.returncode == 0, changed.stdout[-3000:]
    after = current_environment(host)
    assert after != before
    assert host.file(f"{COURSE}/{before}").is_directory, "the running kernel's environment was removed"
    # the running kernel still has the packages it started with
    assert run_cell(page, "print(sys.prefix)").strip() == f"{COURSE}/{before}"
    assert "ModuleNotFoundError" in run_cell(page, "import sympy")
    # a re-run with the same list changes nothing (the old one is still in use)
    again = run_site(check=False, tags="course", **more)
    assert again.returncode == 0 and re.search(r"changed=0\b", again.stdout), again.stdout[-3000:]
    assert host.file(f"{COURSE}/{before}").is_directory
    # restarted, the kernel has the new environment
    page.get_by_role("menuitem", name="Kernel").click()
    page.get_by_role("menuitem", name=re.compile("^Restart Kernel…")).click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    expect(page.get_by_text(re.compile(r"^Python 3.* \| Idle$")).first).to_be_visible(timeout=patient(60_000))
    assert run_cell(page, "import sys, sympy; print(sys.prefix)").strip() == f"{COURSE}/{after}"
    # back to the default list: its environment is still there (earlier tests'
    # students' kernels may run it), so it is current again without a build,
    # and the one with sympy stays while this kernel runs it
    kept = f"{COURSE}/{before}/.test-kept"  # gone if the environment were built again
    host.run_expect([0], f"touch {kept}")
    back = run_site(check=False, tags="course", classbox_course_lock_dir=str(locks))
    assert back.returncode == 0, back.stdout[-3000:]
    assert current_environment(host) == before
    assert host.file(kept).exists, "the environment was built again"
    host.run_expect([0], f"rm {kept}")
    assert host.file(f"{COURSE}/{after}").is_directory, "the running kernel's environment was removed"
    # once its last kernel has stopped, the next run removes it
    stop_kernels_of(host, after)
    removed = run_site(check=False, tags="course", classbox_course_lock_dir=str(locks))
    assert removed.returncode == 0, removed.stdout[-3000:]
    assert not host.file(f"{COURSE}/{after}").exists
    # and so does the unit that prunes at boot, for one no kernel runs
    leftover = f"{COURSE}/{'0' * 16}"
    host.run_expect([0], f"mkdir {leftover}")
    host.run_expect([0], "systemctl start classbox-course-prune.service")
    assert not host.file(leftover).exists
    assert host.file(f"{COURSE}/{before}").is_directory


def stop_kernels_of(host, environment):
    """Stop every kernel that runs the course environment `environment`; wait until they are gone."""
    kernels = f"grep -lsa '^{COURSE}/{environment}/bin/python' /proc/[0-9]*/cmdline | cut -d/ -f3"
    if host.check_output(kernels):
        host.run_expect([0], f"kill $({kernels})")
        deadline = time.monotonic() + 30
        while host.check_output(kernels) and time.monotonic() < deadline:
            time.sleep(1)

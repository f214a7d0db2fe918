"""Fixtures for the tests that check a provisioned box.

Molecule runs these with testinfra's `host` bound to the box; the browser
tests reach the box through its published port on 127.0.0.1.
"""

import os
import re
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

BOX_URL = os.environ.get("BOX_URL", "http://127.0.0.1:18080").rstrip("/")
HUB_URL = f"{BOX_URL}/jupyterhub"
# The container of the box under test, for the power-cut test.
BOX_CONTAINER = os.environ.get("BOX_CONTAINER", "classbox-demo")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
# How much slower than a real box the box under test is (5: the Raspberry Pi
# box under qemu emulation); the browser's waits grow by as much.
SLOWNESS = float(os.environ.get("BOX_SLOWNESS", "1"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# A box with no network (the offline scenario) is reached through a relay
# into its container, listening on BOX_URL's port.
if os.environ.get("BOX_RELAY"):
    from relay import Relay

    Relay(BOX_CONTAINER, int(BOX_URL.rsplit(":", 1)[1])).start()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def admin_credentials():
    password = os.environ.get("BOX_ADMIN_PASSWORD")
    if not password:
        pytest.fail("BOX_ADMIN_PASSWORD is not set: the tests need the box's admin password")
    return os.environ.get("BOX_ADMIN_USER", "admin"), password


def patient(milliseconds):
    """A browser wait, grown for a slow box."""
    return int(milliseconds * SLOWNESS)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=patient(5_000))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def person_at_a_computer(browser, request, label):
    """A fresh browser profile; a screenshot is kept when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(patient(30_000))
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{safe_name}-{label}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, request):
    """The student at the keyboard."""
    yield from person_at_a_computer(browser, request, "page")


@pytest.fixture
def other_page(browser, request):
    """Somebody else at another computer: a second student, or the teacher."""
    yield from person_at_a_computer(browser, request, "other")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "after_all: runs after every other test (checks what they left behind)"
    )
    config.addinivalue_line(
        "markers", "smoke: the checks the offline scenario runs too (`-m smoke`)"
    )
    config.addinivalue_line(
        "markers", "rebuild: runs again after molecule's side effect rebuilt the venv, with the smoke set"
    )


def pytest_collection_modifyitems(config, items):
    if box_venv_was_rebuilt():
        # The second verify pass checks what a rebuilt venv could break (the
        # smoke set, accounts and files kept); the first pass checked the rest.
        kept = [item for item in items if item.get_closest_marker("smoke") or item.get_closest_marker("rebuild")]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    items.sort(key=lambda item: item.get_closest_marker("after_all") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Left by molecule's side effect (rebuild-venv.yml): this is the second verify pass.
REBUILT_MARK = "/root/.classbox-test-venv-rebuilt"


def venv_was_rebuilt(host):
    return host.file(REBUILT_MARK).exists


def box_venv_was_rebuilt():
    """venv_was_rebuilt, asked before any test has a host (at collection)."""
    try:
        asked = subprocess.run(["docker", "exec", BOX_CONTAINER, "test", "-e", REBUILT_MARK],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return asked.returncode == 0


def only_in_the_first_pass(host, what):
    """Skip a slow check the first verify pass has made already."""
    if venv_was_rebuilt(host):
        pytest.skip(f"{what} was checked in the first verify pass")


def new_student_name(prefix="student"):
    return f"{prefix}{secrets.token_hex(3)}"


def wait_until(check, seconds, what, every=1):
    """Call check() until it is true; after `seconds`, fail saying what did not happen."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        time.sleep(every)


def hub_answers():
    """True when the hub's API answers through nginx."""
    try:
        with urllib.request.urlopen(f"{HUB_URL}/hub/api", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False

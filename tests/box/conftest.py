"""Fixtures and hooks for the tests that check a provisioned box; the box
itself and the helpers the tests share are in box.py.

Molecule runs these with testinfra's `host` bound to the box; the browser
tests reach the box through its published port on 127.0.0.1.
"""

import os
import re

import pytest

from tests.box.box import (
    ARTIFACTS,
    BOX_CONTAINER,
    BOX_URL,
    CHROMIUM,
    CHROMIUM_ARGS,
    box_venv_was_rebuilt,
    patient,
)
from tests.box.relay import Relay


@pytest.fixture(scope="session", autouse=True)
def relay():
    """A box with no network (the offline scenario, BOX_RELAY=1) is reached
    through a relay into its container, listening on BOX_URL's port."""
    if os.environ.get("BOX_RELAY"):
        Relay(BOX_CONTAINER, int(BOX_URL.rsplit(":", 1)[1])).start()


@pytest.fixture(scope="session")
def admin_credentials():
    password = os.environ.get("BOX_ADMIN_PASSWORD")
    if not password:
        pytest.fail("BOX_ADMIN_PASSWORD is not set: the tests need the box's admin password")
    return os.environ.get("BOX_ADMIN_USER", "admin"), password


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
    config.addinivalue_line("markers", "after_all: runs after every other test (checks what they left behind)")
    config.addinivalue_line("markers", "smoke: the checks the offline scenario runs too (`-m smoke`)")
    config.addinivalue_line("markers", "offline: the offline scenario runs these too, beside the smoke set")
    config.addinivalue_line("markers", "upgrade: the upgrade scenario's checks (molecule/upgrade)")
    config.addinivalue_line("markers", "hub_python: the hub's venv and proxy run (molecule/pi-trixie: no systemd)")
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


def pytest_terminal_summary(terminalreporter):
    """Under CI (.ci/run sets TIMINGS), the failed tests go into the summary at the
    end of its log too: the log's tail is all that some readers get."""
    timings = os.environ.get("TIMINGS")
    failed = terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])
    if timings and failed:
        with open(timings, "a") as summary:
            for report in failed:
                message = str(report.longrepr).strip().splitlines()[-1:] if report.longrepr else [""]
                summary.write(f"  FAILED {report.nodeid}: {message[0][:300]}\n")

"""The box works with no internet: a student's pages ask nothing of any other host."""

import os

import pytest
from playwright.sync_api import expect

from tests.box.box import BOX_URL, HUB_URL, new_student_name
from tests.box.lab import (
    PASSWORD,
    hosts_besides_the_box,
    new_notebook,
    new_student,
    open_lab,
    record_requests,
    run_cell,
)

pytestmark = pytest.mark.smoke


def test_a_whole_student_session_requests_nothing_from_outside_the_box(page):
    requested = record_requests(page)

    page.goto(f"{BOX_URL}/")
    name = new_student_name("off")
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    assert run_cell(page, "print(6 * 7)").strip() == "42"
    page.goto(f"{HUB_URL}/hub/home")
    page.get_by_role("link", name="Change password").click()
    page.fill("#old_password_input", PASSWORD)
    page.fill("#new_password_input", "quiet-heron-31")
    page.fill("#new_password_confirmation_input", "quiet-heron-31")
    page.locator("input[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("Your password has been changed")

    assert len(requested) > 50, f"only {len(requested)} requests were recorded"
    assert any(url.startswith(("ws://", "wss://")) for url in requested), "no kernel websocket seen"
    assert hosts_besides_the_box(requested) == [], "requests left the box"


@pytest.mark.skipif(not os.environ.get("BOX_RELAY"), reason="only the offline scenario's box has no network")
def test_the_offline_box_has_no_network_and_installed_from_the_bundle_alone(host):
    assert host.check_output("ls /sys/class/net") == "lo"
    # apt read the bundle's list and no mirror's
    lists = host.check_output("ls /var/lib/apt/lists").split()
    assert [name for name in lists if name.endswith("Packages")] == ["_var_cache_classbox_bundle_debs_._Packages"]
    for package in ("nginx", "dnsmasq", "node-configurable-http-proxy", "fake-hwclock"):
        assert host.package(package).is_installed
    # every file of the bundle is on the box, intact
    host.run_expect([0], "cd /var/cache/classbox/bundle && sha256sum --quiet --strict -c SHA256SUMS")

"""The offline box works with no network at all: it installed from the bundle alone."""

import os

import pytest

pytestmark = pytest.mark.smoke

# A whole student session that asks nothing of another host is the smoke set's
# browser test, test_course.py's first lesson.


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

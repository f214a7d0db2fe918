"""The box as its own network: what can be tested without a radio.

A virtual cable (veth) stands in for the Wi-Fi: the box's end is the hotspot's
interface, the other end sits in a network namespace, the student's device.
The box runs NetworkManager, as Raspberry Pi OS does (the default scenario's
prepare.yml): it takes the new interface as it takes a Pi's wlan0, and the
network role must take it back. Switching the hotspot off again must leave the
box's settings as they were before it was switched on (only the packages it
needed stay installed), and the interface to NetworkManager.
"""

import json

import pytest

from tests.box.box import only_in_the_first_pass, wait_until
from tests.box.playbook import run_site
from tests.box.probes import DHCP_DISCOVER, DNS_QUERY

PASSPHRASE = "secret-koala-99"
HOTSPOT = {
    "network_hotspot_enabled": True,
    "network_hotspot_interface": "cbap0",
    "network_hotspot_ssid": "Class 4B",
    "network_hotspot_passphrase": PASSPHRASE,
    "network_hotspot_country": "GB",
}
# Where the network role writes, and where services are enabled or masked.
WATCHED = "/etc/hostapd /etc/systemd/system /etc/NetworkManager /etc/dnsmasq.d"
# What the role writes on a box with NetworkManager (Raspberry Pi OS).
NM_DROPIN = "/etc/NetworkManager/conf.d/classbox.conf"


def settings_on_the_box(host):
    """Every file, link and folder where the role writes, with contents and link targets."""
    found = host.check_output(
        f"find {WATCHED} -printf '%y %m %p -> %l\\n' 2>/dev/null | sort;"
        f" find {WATCHED} -type f -exec md5sum {{}} + 2>/dev/null | sort; true"
    )
    return set(found.splitlines())


def path_of(line):
    """The path in a line of settings_on_the_box: find's '%y %m %p -> %l', or md5sum's."""
    return line.split(" ")[2] if " -> " in line else line.split()[-1]


def installed_packages(host):
    return set(host.check_output("dpkg-query -W -f '${Package}\\n'").split())


def from_packages(host, packages):
    """The paths that installing these packages left (and the mask Debian puts on hostapd)."""
    if not packages:
        return set()
    paths = set(host.check_output(f"dpkg -L {' '.join(sorted(packages))}").splitlines())
    if "hostapd" in packages:
        paths.add("/etc/systemd/system/hostapd.service")
    return paths


def network_manager_state(host, interface):
    """NetworkManager's word for the interface ("unmanaged", "connecting (getting IP configuration)", ...)."""
    for line in host.check_output("nmcli --terse --fields DEVICE,STATE device status").splitlines():
        device, _, state = line.partition(":")
        if device == interface:
            return state
    return None


def managed_by_network_manager(host, interface):
    return network_manager_state(host, interface) not in (None, "unmanaged", "unavailable")


@pytest.fixture
def virtual_wifi(host):
    only_in_the_first_pass(host, "the hotspot")
    assert host.service("NetworkManager").is_running, "the box should run NetworkManager, as Raspberry Pi OS does"
    before, packages_before = settings_on_the_box(host), installed_packages(host)
    host.check_output(
        "ip link add cbap0 type veth peer name cbcl0 && ip netns add cbdevice"
        " && ip link set cbcl0 netns cbdevice && ip link set cbap0 up"
        " && ip netns exec cbdevice ip link set cbcl0 up"
        " && ip netns exec cbdevice ip route add default dev cbcl0"
    )
    try:
        wait_until(lambda: managed_by_network_manager(host, "cbap0"), 30, "NetworkManager took the new interface")
        yield
        off = run_site(check=False, tags="network")  # the hotspot off again, by the role that switched it on
        assert off.returncode == 0, off.stdout[-3000:]
        assert not host.file(NM_DROPIN).exists, "switching the hotspot off left NetworkManager's settings"
        wait_until(
            lambda: managed_by_network_manager(host, "cbap0"),
            30,
            "NetworkManager took the interface back after the hotspot was switched off",
        )
        after = settings_on_the_box(host)
        from_new_packages = from_packages(host, installed_packages(host) - packages_before)
        left = sorted(line for line in after - before if path_of(line) not in from_new_packages)
        assert not left, f"switching the hotspot off left {left}"
        assert not sorted(before - after), "switching the hotspot off removed or changed what was there before"
        assert not host.service("hostapd").is_enabled
        assert "dhcp-range" not in host.file("/etc/dnsmasq.d/classbox.conf").content_string
    finally:
        host.run("ip netns delete cbdevice; ip link delete cbap0")


def on_the_device(host, script, *args):
    return host.check_output(f"ip netns exec cbdevice python3 -c '{script}' {' '.join(args)}")


def test_a_device_on_the_hotspot_gets_an_address_and_finds_box_lan(host, virtual_wifi):
    assert not host.package("hostapd").is_installed
    # as the teacher's guide says: only the network part, which installs what the hotspot needs
    run = run_site(check=False, tags="network", **HOTSPOT)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "Write the hub's configuration" not in output and "Write nginx's configuration" not in output
    assert PASSPHRASE not in output
    assert "cbap0 has no Wi-Fi radio now" in output

    settings = host.file("/etc/hostapd/hostapd.conf")
    assert (settings.user, settings.mode) == ("root", 0o600)
    for line in (
        "interface=cbap0",
        "ssid=Class 4B",
        "country_code=GB",
        "wpa=2",
        f"wpa_passphrase={PASSPHRASE}",
        "max_num_sta=10",
        "ap_isolate=1",
    ):
        assert line in settings.content_string.splitlines()
    assert host.service("hostapd").is_enabled
    assert host.file("/etc/systemd/system/hostapd.service.d/classbox.conf").exists
    assert host.service("classbox-network").is_enabled
    assert host.file(NM_DROPIN).exists
    assert network_manager_state(host, "cbap0") == "unmanaged"
    assert "10.42.0.1/24" in host.check_output("ip -4 -o address show cbap0")

    offer = json.loads(on_the_device(host, DHCP_DISCOVER, "cbcl0"))
    assert offer["type"] == 2  # DHCPOFFER
    assert offer["router"] == offer["dns"] == "10.42.0.1"
    last = int(offer["offered"].split(".")[-1])
    assert offer["offered"].startswith("10.42.0.") and 20 <= last <= 250

    host.check_output(f"ip netns exec cbdevice ip address add {offer['offered']}/24 dev cbcl0")
    assert on_the_device(host, DNS_QUERY, "box.lan", "10.42.0.1") == "10.42.0.1"

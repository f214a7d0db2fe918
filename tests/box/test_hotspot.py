"""The box as its own network: what can be tested without a radio.

A virtual cable (veth) stands in for the Wi-Fi: the box's end is the hotspot's
interface, the other end sits in a network namespace, the student's device.
"""

import json

import pytest
from conftest import only_in_the_first_pass
from playbook import run_site
from probes import DHCP_DISCOVER, DNS_QUERY

PASSPHRASE = "secret-koala-99"
HOTSPOT = {
    "hotspot_enabled": True,
    "hotspot_interface": "cbap0",
    "hotspot_ssid": "Class 4B",
    "hotspot_passphrase": PASSPHRASE,
    "hotspot_country": "GB",
}


@pytest.fixture
def virtual_wifi(host):
    only_in_the_first_pass(host, "the hotspot")
    host.check_output(
        "ip link add cbap0 type veth peer name cbcl0 && ip netns add cbdevice"
        " && ip link set cbcl0 netns cbdevice && ip link set cbap0 up"
        " && ip netns exec cbdevice ip link set cbcl0 up"
        " && ip netns exec cbdevice ip route add default dev cbcl0"
    )
    yield
    try:
        off = run_site(check=False)  # the hotspot off again, as every other test expects
        assert off.returncode == 0, off.stdout[-3000:]
        assert not host.file("/etc/hostapd/hostapd.conf").exists
        assert not host.service("hostapd").is_enabled
        assert "dhcp-range" not in host.file("/etc/dnsmasq.d/classbox.conf").content_string
    finally:
        host.run("ip netns delete cbdevice; ip link delete cbap0")


def on_the_device(host, script, *args):
    return host.check_output(f"ip netns exec cbdevice python3 -c '{script}' {' '.join(args)}")


def test_a_device_on_the_hotspot_gets_an_address_and_finds_box_lan(host, virtual_wifi):
    run = run_site(check=False, **HOTSPOT)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert PASSPHRASE not in output
    assert "cbap0 has no Wi-Fi radio now" in output

    settings = host.file("/etc/hostapd/hostapd.conf")
    assert (settings.user, settings.mode) == ("root", 0o600)
    for line in ("interface=cbap0", "ssid=Class 4B", "country_code=GB", "wpa=2",
                 f"wpa_passphrase={PASSPHRASE}", "max_num_sta=10", "ap_isolate=1"):
        assert line in settings.content_string.splitlines()
    assert host.service("hostapd").is_enabled
    assert "10.42.0.1/24" in host.check_output("ip -4 -o address show cbap0")

    offer = json.loads(on_the_device(host, DHCP_DISCOVER, "cbcl0"))
    assert offer["type"] == 2  # DHCPOFFER
    assert offer["router"] == offer["dns"] == "10.42.0.1"
    last = int(offer["offered"].split(".")[-1])
    assert offer["offered"].startswith("10.42.0.") and 20 <= last <= 250

    host.check_output(f"ip netns exec cbdevice ip address add {offer['offered']}/24 dev cbcl0")
    assert on_the_device(host, DNS_QUERY, "box.lan", "10.42.0.1") == "10.42.0.1"

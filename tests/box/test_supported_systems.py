"""On a system the box does not support, the playbook stops at its first
checks with one sentence that names what is supported.

The box under test is made to look like another system for one run: its
os-release (and /etc/debian_version) are covered by a bind mount with the
text those systems ship, and for a 32-bit Raspberry Pi OS `dpkg
--print-architecture` answers armhf, as it does there under a 64-bit kernel.
Nothing on the box changes: the mounts are undone after each run.
"""

import contextlib

import pytest

from tests.box.playbook import run_site

SUPPORTED = (
    "This box needs Debian 12 (bookworm) or 13 (trixie), or Raspberry Pi OS (64-bit) built on either, "
    "on amd64 or arm64; found {found}."
)

DEBIAN_11 = """\
PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""

UBUNTU_24_04 = """\
PRETTY_NAME="Ubuntu 24.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.3 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
"""

RASPBIAN_12 = """\
PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"
NAME="Raspbian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=raspbian
ID_LIKE=debian
HOME_URL="http://www.raspbian.org/"
SUPPORT_URL="http://www.raspbian.org/RaspbianForums"
BUG_REPORT_URL="http://www.raspbian.org/RaspbianBugs"
"""

SYSTEMS = [
    # (os-release, /etc/debian_version, dpkg's architecture or None, what the playbook says)
    pytest.param(DEBIAN_11, "11.11", None, SUPPORTED.format(found="Debian 11.11 (bullseye, {arch})"), id="debian-11"),
    pytest.param(UBUNTU_24_04, "trixie/sid", None, SUPPORTED.format(found="Ubuntu 24.04 (noble, {arch})"), id="ubuntu"),
    pytest.param(
        RASPBIAN_12,
        "12.12",
        "armhf",
        "This is a 32-bit Raspberry Pi OS (armhf): flash Raspberry Pi OS Lite (64-bit) instead. "
        + SUPPORTED.format(found="Debian 12 (bookworm, armhf)"),
        id="raspberry-pi-os-32-bit",
    ),
]


@contextlib.contextmanager
def looking_like(host, os_release, debian_version, dpkg_arch):
    """The box, for as long as the block runs, reads as the given system."""
    fake = "/var/lib/classbox-fake-system"  # not /run: noexec, and the fake dpkg must run
    mounts = []
    host.check_output(f"mkdir -p {fake}")
    try:
        files = {"os-release": os_release, "debian_version": debian_version + "\n"}
        if dpkg_arch:
            files["dpkg"] = f"#!/bin/sh\necho {dpkg_arch}\n"
        for name, text in files.items():
            host.check_output(f"cat > {fake}/{name} <<'EOF'\n{text}EOF\nchmod 0755 {fake}/{name}")
        targets = {
            "os-release": "/usr/lib/os-release",
            "debian_version": "/etc/debian_version",
            "dpkg": "/usr/bin/dpkg",
        }
        for name in files:
            host.check_output(f"mount --bind {fake}/{name} {targets[name]}")
            mounts.append(targets[name])
        yield
    finally:
        for target in reversed(mounts):
            host.run(f"umount {target}")
        host.run(f"rm -rf {fake}")


@pytest.mark.parametrize("os_release, debian_version, dpkg_arch, says", SYSTEMS)
def test_an_unsupported_system_stops_the_playbook_with_one_sentence(host, os_release, debian_version, dpkg_arch, says):
    arch = host.check_output("dpkg --print-architecture")
    with looking_like(host, os_release, debian_version, dpkg_arch):
        run = run_site(check=False)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0
    assert says.format(arch=arch) in output, output[-2000:]
    assert "TASK [packages :" not in output, "the playbook went past its first checks"
    # the box is itself again
    assert host.file("/etc/os-release").content_string != os_release
    assert host.check_output("dpkg --print-architecture") == arch

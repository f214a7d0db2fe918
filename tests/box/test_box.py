"""The provisioned box, checked from inside with testinfra."""

import json
import os
import re
from datetime import datetime

import pytest

from tests.box.box import VENV_HOME
from tests.box.probes import DNS_QUERY

# Also checked on the offline box (molecule/offline runs `-m smoke`).
pytestmark = pytest.mark.smoke

SERVICES = ["jupyterhub", "jupyterhub-proxy", "jupyterhub-idle-culler", "nginx", "dnsmasq"]
STATE = "/var/lib/jupyterhub"


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_running_and_starts_at_boot(host, name):
    service = host.service(name)
    assert service.is_running
    assert service.is_enabled


@pytest.mark.parametrize("port", [8081, 8000, 8001])
def test_hub_and_proxy_listen_on_loopback_only(host, port):
    assert host.socket(f"tcp://127.0.0.1:{port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_nginx_listens_on_port_80_for_the_classroom(host):
    assert host.socket("tcp://0.0.0.0:80").is_listening


@pytest.mark.parametrize("name", ["jupyterhub_cookie_secret", "proxy.env", "idle-culler.env"])
def test_secrets_are_readable_by_root_only(host, name):
    secret = host.file(f"{STATE}/{name}")
    assert secret.is_file
    assert (secret.user, secret.group, secret.mode) == ("root", "root", 0o600)
    assert len(secret.content_string.strip()) >= 64


def test_the_hub_runs_as_root_but_fenced_in(host):
    pid = host.check_output("systemctl show -p MainPID --value jupyterhub.service")
    assert "NoNewPrivs:\t1" in host.file(f"/proc/{pid}/status").content_string
    # The hub's own mounts, read from /proc rather than entered with nsenter:
    # qemu's emulated processes cannot join a mount namespace (the Pi scenario).
    hub_mounts = mount_options(host, pid)
    assert "ro" in hub_mounts["/etc"], "ProtectSystem=full: /etc is read-only for the hub"
    assert "/root" in hub_mounts and "/root" not in mount_options(host, 1), "ProtectHome: /root is hidden"
    # the same, through the hub's own view of the file system (/proc/<pid>/root)
    write = host.run(f"touch /proc/{pid}/root/etc/classbox-hub-write-test")
    assert write.rc != 0 and "Read-only file system" in write.stderr
    assert host.run(f"ls -A /proc/{pid}/root/root").stdout.strip() == ""


def mount_options(host, pid):
    """Mount point -> its options, as process `pid` sees them (the last mount on a point wins)."""
    table = {}
    for line in host.file(f"/proc/{pid}/mountinfo").content_string.splitlines():
        fields = line.split()
        table[fields[4]] = fields[5].split(",")
    return table


def test_state_directory_is_private_and_holds_the_database(host):
    state = host.file(STATE)
    assert (state.user, state.mode) == ("root", 0o700)
    assert host.file(f"{STATE}/jupyterhub.sqlite").is_file


def test_no_state_lives_in_the_venv(host):
    found = host.check_output(
        f"find {VENV_HOME} \\( -name '*.sqlite' -o -name '*cookie_secret*' -o -name 'proxy.env' \\) -print"
    )
    assert found == ""
    config = host.file("/etc/jupyterhub/jupyterhub_config.py").content_string
    assert f'db_url = "sqlite:///{STATE}/jupyterhub.sqlite"' in config


def test_hub_answers_through_nginx(host):
    body = host.check_output(
        'python3 -c "import urllib.request; '
        "print(urllib.request.urlopen('http://127.0.0.1/jupyterhub/hub/api').read().decode())\""
    )
    assert json.loads(body)["version"].startswith("5.")


def test_landing_page_links_to_the_hub(host):
    page = host.check_output(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1/').read().decode())\""
    )
    assert 'href="/jupyterhub/"' in page


def test_box_lan_resolves_to_the_boxs_lan_address(host):
    settings = host.file("/etc/dnsmasq.d/classbox.conf").content_string
    interface = re.search(r"^interface-name=box\.lan,([^/\s]+)", settings, re.MULTILINE).group(1)
    routed = host.check_output("ip -4 route show default | awk '{print $5; exit}'")
    # The classroom network is the one the box joined (a box with no network
    # at all, like the offline test box, has no route and only loopback).
    assert interface == (routed or "lo")
    address = host.interface(interface).addresses
    ipv4 = [a for a in address if "." in a]
    # asked at the box's address there, as a device on that network asks (a box
    # that is its own hotspot too answers each network with its own address)
    answer = host.check_output(f"python3 -c '{DNS_QUERY}' box.lan {ipv4[0]}")
    assert answer in ipv4


def test_names_outside_the_box_are_not_invented(host):
    assert host.check_output(f"python3 -c '{DNS_QUERY}' nothing-here.lan") == "NXDOMAIN"


def test_venv_packages_are_the_pinned_ones(host):
    frozen = host.check_output(f"{VENV_HOME}/venv/bin/pip freeze --exclude-editable")
    for pin in ["jupyterhub==5.5.4", "jupyterhub-nativeauthenticator==1.3.0", "bcrypt==5.0.0"]:
        assert pin in frozen.splitlines()


def test_hub_database_is_in_write_ahead_log_mode(host):
    mode = host.check_output(
        "python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
        f'.execute("PRAGMA journal_mode").fetchone()[0])\' {STATE}/jupyterhub.sqlite'
    )
    assert mode == "wal"


def test_students_servers_share_a_slice_that_weighs_as_much_as_the_system(host):
    assert host.check_output("systemctl show -p CPUWeight --value classroom.slice") == "100"
    assert "classroom.slice" in host.file("/etc/jupyterhub/jupyterhub_config.py").content_string


def test_jupyterlab_reads_the_offline_settings(host):
    """The settings file is one JupyterLab reads (jupyter_server_config.d is not)."""
    script = (
        "from jupyter_server.serverapp import ServerApp; "
        "app = ServerApp(); app.initialize(argv=[], find_extensions=False); "
        "import json; print(json.dumps(app.config['LabApp']))"
    )
    settings = json.loads(host.check_output(f'{VENV_HOME}/venv/bin/python -c "{script}" 2>/dev/null'))
    assert settings["news_url"] is None
    assert settings["extension_manager"] == "readonly"


def test_the_journal_is_kept_within_its_limit_and_across_reboots(host):
    config = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "Storage=persistent" in config
    assert "SystemMaxUse=64M" in config
    assert host.file("/var/log/journal").is_directory


# The unit of fake-hwclock that restores the clock at boot, by Debian release
# (Debian 13 masks fake-hwclock.service, its load and save units replace it).
CLOCK_RESTORED_BY = {"bookworm": "fake-hwclock", "trixie": "fake-hwclock-load"}


def test_the_clock_is_saved_for_the_next_boot(host):
    assert host.service(CLOCK_RESTORED_BY[host.system_info.codename]).is_enabled
    assert host.check_output("systemctl is-active fake-hwclock-save.timer") == "active"
    host.check_output("systemctl start fake-hwclock-save.service")
    saved = datetime.strptime(host.file("/etc/fake-hwclock.data").content_string.strip(), "%Y-%m-%d %H:%M:%S")
    now = datetime.strptime(host.check_output("date -u '+%Y-%m-%d %H:%M:%S'"), "%Y-%m-%d %H:%M:%S")
    assert abs((now - saved).total_seconds()) < 60


def test_nginx_writes_its_access_log_in_batches(host):
    assert "access.log combined buffer=64k" in host.file("/etc/nginx/nginx.conf").content_string


def test_swap_goes_to_compressed_memory_not_to_the_sd_card(host):
    settings = host.file("/etc/default/zramswap").content_string
    assert "PERCENT=50\n" in settings and "ALGO=zstd\n" in settings
    assert host.service("zramswap").is_enabled
    # not enabled, or not there at all (Debian 13's systemctl exits with 4 then, which testinfra refuses)
    assert host.run("systemctl is-enabled dphys-swapfile").rc != 0
    if host.run("systemd-detect-virt --container").rc == 0:
        # a container has no zram of its own: the unit is skipped there, not failed
        state = host.check_output("systemctl show zramswap -p ConditionResult -p ActiveState")
        assert "ConditionResult=no" in state and "ActiveState=inactive" in state
    else:
        assert "/dev/zram0" in host.file("/proc/swaps").content_string


@pytest.mark.hub_python
def test_the_venv_holds_wheels_made_for_the_boxs_processor(host):
    machine = host.check_output("uname -m")
    # the Raspberry Pi scenario says which processor its emulated box has
    assert machine == os.environ.get("BOX_MACHINE", machine)
    # the venv's site-packages, whichever Python the box has (3.11 on Debian 12, 3.13 on 13)
    packages = host.check_output(
        f"{VENV_HOME}/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))'"
    )
    wheel = host.check_output(f"cat {packages}/bcrypt-*.dist-info/WHEEL")
    assert f"Tag: cp39-abi3-manylinux_2_34_{machine}" in wheel

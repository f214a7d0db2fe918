"""What the other tests leave behind on the box: run last (marker after_all)."""

import re
import subprocess

import pytest

from tests.box.box import BOX_CONTAINER, HUB_URL, hub_answers, new_student_name, wait_until
from tests.box.lab import new_notebook, new_student, open_lab, run_cell

pytestmark = pytest.mark.after_all


def test_hub_log_has_no_server_errors(host):
    log = host.check_output("journalctl -u jupyterhub.service --no-pager -o cat")
    assert "Traceback" not in log
    server_errors = [line for line in log.splitlines() if "] 500 " in line]
    assert server_errors == []


def student_units(host):
    listing = host.check_output(
        "systemctl list-units --no-legend --plain --state=active 'jupyter-*-singleuser.service'"
    )
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def test_every_students_server_has_the_memory_limit(host):
    # the default, auto: a quarter of the box's memory, from 384 MiB to 2 GiB
    memory_mb = int(host.check_output("awk '/^MemTotal:/ {print $2}' /proc/meminfo")) // 1024
    limit = min(max(memory_mb // 4, 384), 2048) * 1024 * 1024
    units = student_units(host)
    assert units, "the browser tests should have left at least one student's server running"
    for unit in units:
        props = host.check_output(f"systemctl show {unit} -p MemoryMax -p MemorySwapMax -p DynamicUser -p PrivateTmp")
        assert f"MemoryMax={limit}\n" in props + "\n", unit
        assert f"MemorySwapMax={limit // 2}\n" in props + "\n", unit
        assert "DynamicUser=yes" in props, unit
        assert "PrivateTmp=yes" in props, unit


def test_students_folders_are_hidden_from_each_other(host):
    private = host.file("/var/lib/private")
    assert (private.user, private.mode) == ("root", 0o700)


CULLER = "jupyterhub-idle-culler.service"


def culler_asked_the_hub_since_it_started(host):
    """The hub logged a request the culler made with its own token (the
    service idle-culler), since the culler's service last started."""
    started = host.check_output(f"systemctl show -p ActiveEnterTimestamp --value {CULLER}")
    log = host.check_output(f"journalctl -u jupyterhub.service --since '{started}' --no-pager -o cat")
    # [I 2026-11-23 12:21:11.728 JupyterHub log:192] 200 GET /jupyterhub/hub/api/users?state=[secret] (idle-culler@...
    return re.search(r"\] 200 GET \S*/hub/api/users\S* \(idle-culler@", log) is not None


def test_the_idle_culler_runs_as_its_own_unprivileged_service_and_asks_the_hub(host):
    culler = host.service(CULLER)
    assert culler.is_enabled
    assert culler.is_running, f"{CULLER} is not running"
    pid = int(host.check_output(f"systemctl show -p MainPID --value {CULLER}"))
    command = host.file(f"/proc/{pid}/cmdline").content_string
    assert "\0-m\0jupyterhub_idle_culler\0" in command, command.split("\0")
    uid = int(host.check_output(f"awk '/^Uid:/ {{print $2}}' /proc/{pid}/status"))
    assert uid != 0
    # It asks once when it starts, then every --cull-every seconds (up to 300): if
    # its first round came before the hub answered, a new start asks at once.
    if not culler_asked_the_hub_since_it_started(host):
        host.run_expect([0], f"systemctl restart {CULLER}")
    wait_until(lambda: culler_asked_the_hub_since_it_started(host), 90, "the culler did not ask the hub", every=3)


def systemd_is_up():
    state = subprocess.run(
        ["docker", "exec", BOX_CONTAINER, "systemctl", "is-system-running"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return state in ("running", "degraded")


def student_with_a_file(page, prefix, filename):
    """A new student who wrote `filename` ("still here") in a notebook; returns the name."""
    name = new_student_name(prefix)
    new_student(page, name)
    open_lab(page, name)
    new_notebook(page)
    run_cell(page, f"print(open('{filename}', 'w').write('still here'))")
    return name


def every_service_comes_back(host):
    wait_until(systemd_is_up, 120, "systemd did not finish booting")
    wait_until(hub_answers, 120, "the hub did not answer through nginx")
    for service in ("jupyterhub", "jupyterhub-proxy", "nginx", "dnsmasq"):
        assert host.service(service).is_running, service


def test_a_reboot_brings_every_service_account_and_file_back(host, page):
    name = student_with_a_file(page, "rbt", "before-the-reboot.txt")
    marker = f"before the reboot {name}"
    host.check_output(f"logger -t classbox-test '{marker}' && journalctl --flush")

    # docker restart sends the stop signal (RTMIN+3): systemd shuts down cleanly
    subprocess.run(["docker", "restart", BOX_CONTAINER], check=True, capture_output=True)
    every_service_comes_back(host)
    # what was logged before the reboot is still there (Storage=persistent)
    assert marker in host.check_output("journalctl -t classbox-test --no-pager -o cat")
    open_lab(page, name)
    answer = page.request.get(f"{HUB_URL}/user/{name}/api/contents/before-the-reboot.txt?content=1")
    assert answer.ok and answer.json()["content"] == "still here"


# Defined last in the last module: it cuts the power under everything else.
def test_a_power_cut_loses_no_account_and_no_file(host, page):
    name = student_with_a_file(page, "pwr", "before-the-cut.txt")

    subprocess.run(["docker", "kill", "--signal", "KILL", BOX_CONTAINER], check=True, capture_output=True)
    subprocess.run(["docker", "start", BOX_CONTAINER], check=True, capture_output=True)
    every_service_comes_back(host)
    integrity = host.check_output(
        'python3 -c "import sqlite3; '
        "print(sqlite3.connect('/var/lib/jupyterhub/jupyterhub.sqlite')"
        ".execute('PRAGMA integrity_check').fetchone()[0])\""
    )
    assert integrity == "ok"
    open_lab(page, name)
    assert host.file(f"/var/lib/private/{name}/before-the-cut.txt").content_string == "still here"

"""What the other tests leave behind on the box: run last (marker after_all)."""

import pytest

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
    units = student_units(host)
    assert units, "the browser tests should have left at least one student's server running"
    for unit in units:
        props = host.check_output(f"systemctl show {unit} -p MemoryMax -p DynamicUser -p PrivateTmp")
        assert "MemoryMax=1073741824" in props, unit
        assert "DynamicUser=yes" in props, unit
        assert "PrivateTmp=yes" in props, unit


def test_students_folders_are_hidden_from_each_other(host):
    private = host.file("/var/lib/private")
    assert (private.user, private.mode) == ("root", 0o700)


def test_idle_culler_runs_as_a_hub_service(host):
    assert host.run("grep -l jupyterhub_idle_culler /proc/[0-9]*/cmdline").rc == 0

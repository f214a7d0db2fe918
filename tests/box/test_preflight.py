"""A wrong inventory value stops the playbook before anything on the box
changes, with a message that names the value and says why."""

import pytest
from playbook import run_site

FIRST_CHANGE = "TASK [base : Install the common packages]"

BAD_VALUES = [
    ({"jupyterhub_admin_password": ""}, "jupyterhub_admin_password is not set"),
    ({"jupyterhub_admin_password": "short7!"}, "at least 8 characters"),
    ({"jupyterhub_admin_password": "ü" * 40}, "at most 72 bytes"),
    ({"jupyterhub_admin_username": "Teacher Name"}, "jupyterhub_admin_username"),
    ({"jupyterhub_extra_admins": [{"username": "helper", "password": "x"}]}, "'helper'"),
    ({"jupyterhub_student_memory_limit": "lots"}, "jupyterhub_student_memory_limit"),
    ({"jupyterhub_default_interface": "classic"}, "jupyterhub_default_interface"),
    ({"jupyterhub_spawn_timeout": 5}, "jupyterhub_spawn_timeout is 30 seconds"),
    ({"jupyterhub_base_url": "jupyterhub"}, "jupyterhub_base_url"),
    ({"jupyterhub_proxy_port": 8081}, "three different ports"),
    ({"web_max_upload_size": "big"}, "web_max_upload_size"),
    ({"base_hostname": "My Box"}, "base_hostname"),
    ({"localnet_interface": "wlan9"}, "localnet_interface must be one of this box's interfaces"),
]


@pytest.mark.parametrize("bad, says", BAD_VALUES, ids=[f"{next(iter(b))}-{i}" for i, (b, _) in enumerate(BAD_VALUES)])
def test_bad_value_stops_the_playbook_at_the_start(bad, says):
    run = run_site(check=False, **bad)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert says in output
    assert FIRST_CHANGE not in output
    for secret in ("short7!", "ü" * 40):
        assert secret not in output, "a password was printed"


def test_a_class_too_big_for_the_memory_and_a_nearly_full_disk_are_warned_about():
    # Warnings do not stop the playbook; the bad web_port after them does, before any change.
    run = run_site(check=False, jupyterhub_class_size=100000, base_min_free_space_mb=10**9, web_port=0)
    output = run.stdout + run.stderr
    assert "WARNING: this box has" in output and "jupyterhub_class_size is 100000" in output
    assert "WARNING: only" in output and "base_min_free_space_mb" in output
    assert "web_port must be a port number" in output
    assert FIRST_CHANGE not in output

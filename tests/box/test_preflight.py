"""A wrong inventory value stops the playbook before anything on the box
changes, with a message that names the value and says why."""

import pytest

from classbox.wheels import lock_of, releases
from tests.box.playbook import run_site
from tests.fake_bundle import make_bundle

# The first task that may change the box, installing from the internet or from a bundle.
FIRST_CHANGES = (
    "TASK [packages : Remove an offline bundle used before",
    "TASK [packages : Read which bundle the box holds]",
)

BAD_VALUES = [
    ({"jupyterhub_admin_password": ""}, "jupyterhub_admin_password is not set"),
    ({"jupyterhub_admin_password": "short7!"}, "at least 8 characters"),
    ({"jupyterhub_admin_password": "ü" * 40}, "at most 72 bytes"),
    ({"jupyterhub_admin_username": "Teacher Name"}, "jupyterhub_admin_username"),
    ({"jupyterhub_extra_admins": [{"username": "helper", "password": "x"}]}, "'helper'"),
    ({"jupyterhub_student_memory_limit": "lots"}, "jupyterhub_student_memory_limit"),
    ({"jupyterhub_default_interface": "classic"}, "jupyterhub_default_interface"),
    ({"jupyterhub_spawn_timeout": 5}, "jupyterhub_spawn_timeout is 30 seconds"),
    ({"jupyterhub_student_tasks_max": 10}, "jupyterhub_student_tasks_max is 64 or more (got '10')"),
    ({"jupyterhub_base_url": "jupyterhub"}, "jupyterhub_base_url"),
    ({"jupyterhub_proxy_port": 8081}, "three different ports"),
    ({"web_max_upload_size": "big"}, "web_max_upload_size"),
    ({"base_hostname": "My Box"}, "base_hostname"),
    ({"network_interface": "wlan9"}, "network_interface must be one of this box's interfaces"),
    ({"hotspot_ssid": "Class 4B"}, "hotspot_ssid is now network_hotspot_ssid"),  # an old name: says the new one
    ({"jupyterhub_class_sise": 25}, "jupyterhub_class_sise is not a setting"),  # a typo
    ({"packages_bundle": "bundles/classbox-bundle-arm64.tar"}, "packages_bundle must be the full path"),
    ({"base_zram_percent": 150}, "base_zram_percent is a percentage"),
    ({"jupyterhub_share_max_megabytes": 500}, "jupyterhub_share_max_megabytes is above 0 and at most 100"),
]


@pytest.mark.parametrize("bad, says", BAD_VALUES, ids=[f"{next(iter(b))}-{i}" for i, (b, _) in enumerate(BAD_VALUES)])
def test_bad_value_stops_the_playbook_at_the_start(bad, says):
    run = run_site(check=False, **bad)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert says in output
    assert not any(task in output for task in FIRST_CHANGES)
    for secret in ("short7!", "ü" * 40):
        assert secret not in output, "a password was printed"


def test_a_class_too_big_for_the_memory_and_a_nearly_full_disk_are_warned_about():
    # Warnings do not stop the playbook; the bad web_port after them does, before any change.
    run = run_site(check=False, jupyterhub_class_size=100000, base_min_free_space_mb=10**9, web_port=0)
    output = run.stdout + run.stderr
    assert "WARNING: this box has" in output and "jupyterhub_class_size is 100000" in output
    assert "WARNING: only" in output and "base_min_free_space_mb" in output
    assert "web_port must be a port number" in output
    assert not any(task in output for task in FIRST_CHANGES)


def damage_a_wheel(folder):
    next((folder / "wheels").glob("*.whl")).write_bytes(b"cut short")


def release_facts(codename: str) -> dict[str, str]:
    """A release of classbox_debian_releases as a bundle records it."""
    facts = releases()[codename]
    return {"suite": codename, "debian": facts["debian"], "python": facts["python"], "glibc": facts["glibc"]}


@pytest.mark.parametrize(
    "which, says",
    [
        (
            "other",
            "The bundle is for {other}, but the box is {box}: build one with playbooks/bundle.yml "
            "-e packages_bundle_arch={box}.",
        ),
        (
            "other-release",
            "The bundle is for Debian {other_debian} ({other_release}), but the box runs Debian {debian} "
            "({release}): build one with playbooks/bundle.yml -e packages_bundle_release={release}.",
        ),
        ("damaged", "The bundle is damaged: 1 file(s) do not match their checksum, first wheels/"),
    ],
)
def test_a_bundle_that_cannot_be_used_stops_the_playbook_at_the_start(host, tmp_path, which, says):
    box = host.check_output("dpkg --print-architecture")
    other = {"amd64": "arm64", "arm64": "amd64"}[box]
    release = host.check_output(". /etc/os-release && echo $VERSION_CODENAME")
    other_release = next(codename for codename in releases() if codename != release)
    bundle_release = release_facts(other_release if which == "other-release" else release)
    archive = make_bundle(
        tmp_path,
        [lock_of(bundle_release["python"])],  # the lock the bundle's release installs
        [],
        arch=other if which == "other" else box,
        tweak=damage_a_wheel if which == "damaged" else None,
        release=bundle_release,
    )
    run = run_site(check=False, packages_bundle=str(archive))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    facts = {"debian": release_facts(release)["debian"], "other_debian": release_facts(other_release)["debian"]}
    expected = says.format(other=other, box=box, release=release, other_release=other_release, **facts)
    assert "packages_bundle: " + expected in " ".join(output.split())
    assert not any(task in output for task in FIRST_CHANGES)

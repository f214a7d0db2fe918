"""The box's container: one platform for molecule and the demo box."""

from pathlib import Path

import pytest
import yaml

from classbox import container


def test_the_demo_box_gets_every_setting_of_the_tests_platform():
    entry = container.platform()
    options = container.options(entry)
    assert "--cgroupns=host" in options
    assert "--volume=/sys/fs/cgroup:/sys/fs/cgroup:rw" in options
    assert [o for o in options if o.startswith("--tmpfs=")] == [f"--tmpfs={t}" for t in entry["tmpfs"]]
    assert len(options) == sum(len(v) if isinstance(v, list) else 1 for k, v in entry.items() if k in container.OPTIONS)


def test_the_image_follows_the_environment_as_molecule_reads_it():
    entry = {"image": "${BOX_IMAGE:-debian:bookworm}", "command": "/lib/systemd/systemd"}
    assert container.expand(entry["image"], {}) == "debian:bookworm"
    assert container.expand(entry["image"], {"BOX_IMAGE": "arm:64"}) == "arm:64"


def test_a_platform_setting_the_demo_box_would_drop_is_refused(tmp_path: Path, monkeypatch):
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump({"platforms": [{"name": "x", "image": "y", "privileged": True}]}))
    monkeypatch.setattr(container, "ROOT", tmp_path)  # for the message's relative path
    with pytest.raises(SystemExit, match="privileged"):
        container.platform(config)

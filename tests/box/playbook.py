"""Run the real playbooks against the box under test (or another box)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE") or os.environ.get("BOX_INVENTORY")


def run_playbook(name, inventory=None, check=True, env=None, tags=None, **extra_vars):
    """ansible-playbook playbooks/<name> with extra vars (and only `tags`); returns the finished process."""
    inventory = inventory or INVENTORY
    if not inventory:
        pytest.skip("needs the box's inventory: run under molecule, or set BOX_INVENTORY")
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), f"playbooks/{name}", "-e", json.dumps(extra_vars)]
        + (["--tags", tags] if tags else []),
        cwd=PROJECT,
        check=check,
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})},
    )


def run_site(check=True, tags=None, **extra_vars):
    return run_playbook("site.yml", check=check, tags=tags, **extra_vars)


def restore_onto(second_box_env, archive):
    """playbooks/restore.yml with a backup on this machine, onto a box that
    tests.box.box.second_box made (reached through the demo inventory)."""
    return run_playbook(
        "restore.yml",
        inventory=PROJECT / "inventory" / "demo" / "hosts.yml",
        env=second_box_env,
        backup_archive=str(archive),
        backup_archive_on_controller=True,
    )

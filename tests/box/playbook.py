"""Run the real playbooks/site.yml against the box under test."""

import json
import os
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE") or os.environ.get("BOX_INVENTORY")


def run_site(check=True, **extra_vars):
    """ansible-playbook site.yml with extra vars; returns the finished process."""
    if not INVENTORY:
        pytest.skip("needs the box's inventory: run under molecule, or set BOX_INVENTORY")
    return subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, "playbooks/site.yml", "-e", json.dumps(extra_vars)],
        cwd=PROJECT,
        check=check,
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )

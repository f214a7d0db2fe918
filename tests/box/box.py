"""The box under test, as the box tests see it: where it answers, how slow it
is, and small helpers that wait for it or ask it something.

Set by molecule's verifier env (molecule/*/molecule.yml) or by hand against the
demo box (BOX_URL, BOX_CONTAINER, BOX_SLOWNESS, TEST_ARTIFACTS, CHROMIUM).
"""

import contextlib
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

BOX_URL = os.environ.get("BOX_URL", "http://127.0.0.1:18080").rstrip("/")
HUB_URL = f"{BOX_URL}/jupyterhub"
# Where the hub's software lives on the box (classbox_hub_venv's folder, box.yml).
VENV_HOME = "/opt/jupyterhub"
# Where the course's environments and the students' kernel live (classbox_course_root, box.yml).
COURSE = "/opt/classbox/course"
# The container of the box under test, for the power-cut test.
BOX_CONTAINER = os.environ.get("BOX_CONTAINER", "classbox-demo")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
# How much slower than a real box the box under test is (5: the Raspberry Pi
# box under qemu emulation); the browser's waits grow by as much.
SLOWNESS = float(os.environ.get("BOX_SLOWNESS", "1"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Left by molecule's side effect (rebuild-venv.yml): this is the second verify pass.
REBUILT_MARK = "/root/.classbox-test-venv-rebuilt"


def patient(milliseconds):
    """A browser wait, grown for a slow box."""
    return int(milliseconds * SLOWNESS)


def venv_was_rebuilt(host):
    return host.file(REBUILT_MARK).exists


def box_venv_was_rebuilt():
    """venv_was_rebuilt, asked before any test has a host (at collection)."""
    try:
        asked = subprocess.run(
            ["docker", "exec", BOX_CONTAINER, "test", "-e", REBUILT_MARK], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return asked.returncode == 0


def only_in_the_first_pass(host, what):
    """Skip a slow check the first verify pass has made already."""
    if venv_was_rebuilt(host):
        pytest.skip(f"{what} was checked in the first verify pass")


def new_student_name(prefix="student"):
    return f"{prefix}{secrets.token_hex(3)}"


def wait_until(check, seconds, what, every=1):
    """Call check() until it is true; after `seconds`, fail saying what did not happen."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        time.sleep(every)


def hub_answers():
    """True when the hub's API answers through nginx."""
    try:
        with urllib.request.urlopen(f"{HUB_URL}/hub/api", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def second_box(name, port, password, state_dir, image=None):
    """A box beside the one under test, provisioned by the real site.yml
    (scripts/demo.sh), removed afterwards; yields demo.sh's environment."""
    env = {"BOX_NAME": name, "BOX_PORT": str(port), "BOX_STATE_DIR": str(state_dir), "BOX_ADMIN_PASSWORD": password}
    if image:
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            pytest.fail(f"the image {image} is missing: scripts/build-image.sh builds it")
        env["BOX_IMAGE"] = image
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    try:
        made = subprocess.run(
            ["scripts/demo.sh", "up"],
            cwd=Path(__file__).resolve().parents[2],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        if made.returncode:
            pytest.fail(f"the box {name} was not provisioned:\n{made.stdout[-4000:]}\n{made.stderr[-2000:]}")
        yield env
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)

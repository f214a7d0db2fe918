"""The box under test, as the box tests see it: where it answers, how slow it
is, and small helpers that wait for it or ask it something.

Set by molecule's verifier env (molecule/*/molecule.yml) or by hand against the
demo box (BOX_URL, BOX_CONTAINER, BOX_SLOWNESS, TEST_ARTIFACTS, CHROMIUM).
"""

import contextlib
import os
import re
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
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


def docs_screenshot(page, name, full_page=True):
    """Keep what the page shows for the guides: TEST_ARTIFACTS/docs/<name>.png
    (docs/images/ holds the copies the guides show)."""
    folder = ARTIFACTS / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


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


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One browser's cookies; answers as (status, text), redirects not followed."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirects())

    def open(self, url, form=None, timeout=120):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=data, timeout=timeout) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def token(self, path="login"):
        """Open a form's page; its _xsrf token (also set as this browser's cookie)."""
        status, page = self.open(f"{HUB_URL}/hub/{path}")
        assert status == 200, f"GET {path} answered {status}"
        return re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)

    def post_form(self, path, **fields):
        """Open the form's page (for its _xsrf token), then post it."""
        return self.open(f"{HUB_URL}/hub/{path}", {"_xsrf": self.token(path), **fields})


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

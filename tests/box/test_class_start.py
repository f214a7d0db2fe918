"""Class start: JupyterLab's and the hub's own files come from nginx,
compressed and cached; a student's files never come that way; the servers'
answers are compressed; the spawn page says what is happening while it waits.
"""

import gzip
import hashlib
import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.box.box import HUB_URL, new_student_name, patient
from tests.box.lab import new_notebook, new_student, open_lab, run_cell
from tests.box.test_share import from_lab

VENV_SHARE = "/opt/jupyterhub/venv/share"
IMMUTABLE = "public, max-age=31536000, immutable"


def fetch(url, headers=None):
    """(status, headers, body as it crossed the network): no redirect followed, nothing decompressed."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", **(headers or {})})
    try:
        with urllib.request.build_opener(Stay).open(request, timeout=60) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def jupyterlab_main_script(host):
    """JupyterLab's main script, as the lab page names it (main.<hash>.js)."""
    found = host.run(f"ls {VENV_SHARE}/jupyter/lab/static | grep -E '^main\\.[0-9a-f]+\\.js$'").stdout.split()
    assert found, "JupyterLab's main script is not in the venv"
    return found[0]


@pytest.mark.offline
def test_jupyterlabs_files_come_from_nginx_compressed_and_cached_for_good(host):
    name = jupyterlab_main_script(host)
    original = host.file(f"{VENV_SHARE}/jupyter/lab/static/{name}")
    assert host.file(f"{VENV_SHARE}/jupyter/lab/static/{name}.gz").exists, "no gzip copy made at install"
    # A name of no student and no server: only nginx can answer it with the file.
    status, headers, body = fetch(f"{HUB_URL}/user/{new_student_name('nobody')}/static/lab/{name}?v=0123456789abcdef")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == IMMUTABLE
    assert hashlib.sha256(gzip.decompress(body)).hexdigest() == original.sha256sum
    assert len(body) < original.size / 2, f"{len(body)} bytes sent for a file of {original.size}"

    # The hub's own files (its login page's style), the same way.
    style = f"{VENV_SHARE}/jupyterhub/static/css/style.min.css"
    status, headers, body = fetch(f"{HUB_URL}/hub/static/css/style.min.css?v=0123456789abcdef")
    assert (status, headers["Content-Encoding"], headers["Cache-Control"]) == (200, "gzip", IMMUTABLE)
    assert hashlib.sha256(gzip.decompress(body)).hexdigest() == host.file(style).sha256sum

    # A file whose name has no hash is asked again each time, and costs a 304.
    extensions = host.run(f"ls {VENV_SHARE}/jupyter/labextensions/@classbox/share/static").stdout.split()
    unhashed = next(n for n in extensions if n.endswith(".js") and not re.search(r"[0-9a-f]{16}", n))
    url = f"{HUB_URL}/user/{new_student_name('nobody')}/lab/extensions/@classbox/share/static/{unhashed}"
    status, headers, _ = fetch(url)
    assert (status, headers["Cache-Control"]) == (200, "no-cache")
    assert fetch(url, {"If-None-Match": headers["ETag"]})[0] == 304


@pytest.mark.offline
def test_a_students_own_files_never_come_from_nginx(page, other_page):
    anna = new_student_name("anna")
    new_student(page, anna)
    open_lab(page, anna)
    # Anna's folder holds files at the paths nginx serves for the venv.
    new_notebook(page)
    run_cell(
        page,
        "import os; os.makedirs('static/lab', exist_ok=True); os.makedirs('lab/extensions', exist_ok=True); "
        "open('static/lab/secret.js', 'w').write('anna-secret-' * 200); "
        "open('lab/extensions/secret.js', 'w').write('anna-secret-' * 200); print('written')",
    )
    attempts = [
        f"{HUB_URL}/user/{anna}/static/lab/secret.js",
        f"{HUB_URL}/user/{anna}/lab/extensions/secret.js",
        f"{HUB_URL}/user/{anna}/files/static/lab/secret.js",
        f"{HUB_URL}/user/{anna}/static/lab/../../files/static/lab/secret.js",
        f"{HUB_URL}/user/{anna}/static/lab/%2e%2e/%2e%2e/files/static/lab/secret.js",
        f"{HUB_URL}/user/{anna}/static/lab/..%2f..%2ffiles/static/lab/secret.js",
    ]
    ben = new_student_name("ben")
    new_student(other_page, ben)
    for url in attempts:
        # Nobody logged in, and Ben logged in (his browser's cookies).
        status, _, body = fetch(url)
        assert b"anna-secret" not in body and b"anna-secret" not in gzip_or_plain(body), (url, status)
        answer = other_page.request.get(url, max_redirects=0)
        assert "anna-secret" not in answer.text(), (url, answer.status)
    # Anna herself gets her file from her server (the files view), not from nginx.
    status, text = from_lab(page, "GET", f"{HUB_URL}/user/{anna}/files/static/lab/secret.js")
    assert status == 200 and text.startswith("anna-secret-")


@pytest.mark.offline
def test_the_servers_answers_are_compressed(page):
    anna = new_student_name("anna")
    new_student(page, anna)
    open_lab(page, anna)
    answer = page.request.get(f"{HUB_URL}/user/{anna}/lab/api/settings", headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200
    assert answer.headers.get("content-encoding") == "gzip"
    assert json.loads(answer.text())["settings"], "the settings came compressed and whole"
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()


@pytest.mark.offline
def test_the_spawn_page_says_what_is_happening_while_a_server_starts(page):
    anna = new_student_name("anna")
    new_student(page, anna)
    open_lab(page, anna)
    page.goto(f"{HUB_URL}/hub/home")
    # What the spawn page's progress bar shows: its event stream, read whole
    # (it ends once the server is ready), after a stop and a new start.
    events = page.evaluate(
        """async ([hub, name]) => {
            const xsrf = document.cookie.match(/_xsrf=([^;]+)/)[1];
            const api = (method, path) => fetch(`${hub}/hub/api/users/${name}${path}`,
                                               {method, headers: {'X-XSRFToken': xsrf}});
            await api('DELETE', '/server');
            for (let i = 0; i < 120; i++) {
                const me = await (await api('GET', '')).json();
                if (!me.servers[''] && !me.pending) break;
                await new Promise(done => setTimeout(done, 500));
            }
            // The hub answers the start only once the server runs (or after 10 s):
            // the page follows its progress meanwhile, as the spawn page does.
            const start = api('POST', '/server');
            await new Promise(done => setTimeout(done, 300));
            const stream = await (await api('GET', '/server/progress')).text();
            await start;
            return stream;
        }""",
        [HUB_URL, anna],
    )
    messages = [json.loads(line[5:]) for line in events.splitlines() if line.startswith("data:")]
    # One student alone: the server's process may already run at the first event.
    ours = re.compile(r"(Starting your server|Your server is running and JupyterLab is loading) \(\d+ s\)\.")
    assert any(ours.match(m.get("message", "")) for m in messages), messages
    assert messages[-1].get("ready") is True, messages[-1]
    page.goto(f"{HUB_URL}/user/{anna}/lab")
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=patient(60_000))


def gzip_or_plain(body):
    try:
        return gzip.decompress(body)
    except (OSError, EOFError):
        return body

"""JupyterLab's first load as a browser makes it: recorded once, replayed per student.

record() logs one student in with Playwright and Debian's Chromium, opens
JupyterLab in a fresh profile and keeps every request it makes until
JupyterLab is usable (its launcher shows and the network is quiet), with the
bytes that crossed the network as Chromium counts them (compressed, headers
included); then it opens JupyterLab again in the same profile, as the next
lesson does, and counts that load's bytes (what the cache did not spare).

replay() makes those requests for another student, over six connections as a
browser does, and returns the bytes received (as they crossed the network)
and any answer that failed where the recording's had not.
"""

import queue
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.box.box import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the browser as the box tests run it)

CONNECTIONS = 6  # a browser's connections to one host (HTTP/1.1)


@dataclass
class Load:
    """The requests of a first load (paths with {user} for the student's name) and its bytes."""

    requests: list = field(default_factory=list)  # (method, path, status)
    first_bytes: int = 0
    first_requests: int = 0
    second_bytes: int = 0
    second_requests: int = 0
    recorder: object = None  # the student it was recorded as (their server is stopped at the end)


class NetworkCount:
    """Bytes and requests that crossed the network (the cache's answers cross nothing), as Chromium counts them."""

    def __init__(self, context, page):
        self.bytes = self.requests = 0
        self.session = context.new_cdp_session(page)
        self.session.on("Network.loadingFinished", self.finished)
        self.session.send("Network.enable")

    def finished(self, event):
        if event.get("encodedDataLength", 0) > 0:
            self.bytes += event["encodedDataLength"]
            self.requests += 1


def wait_until_usable(page, user):
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=300_000)
    page.locator('[data-command="launcher:create"]').first.wait_for(state="visible", timeout=300_000)
    page.wait_for_load_state("networkidle", timeout=120_000)


def record(hub: str, user: str, password: str) -> Load:
    """Log `user` in (their server must be running) and record JupyterLab's loads."""
    from playwright.sync_api import sync_playwright

    load = Load()
    prefix = f"/user/{user}/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{hub}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", password)
        seen = []

        def keep(response):
            request = response.request
            if request.resource_type not in ("websocket", "eventsource") and request.method == "GET":
                seen.append((request.method, request.url, response.status))

        count = NetworkCount(context, page)
        page.on("response", keep)
        page.click("#login_submit")
        wait_until_usable(page, user)
        page.remove_listener("response", keep)
        load.first_bytes, load.first_requests = count.bytes, count.requests

        again = context.new_page()
        count = NetworkCount(context, again)
        again.goto(f"{hub}/user/{user}/lab")
        wait_until_usable(again, user)
        load.second_bytes, load.second_requests = count.bytes, count.requests
        browser.close()
    # From the lab page as it came (after the login and the server's OAuth
    # redirects, which the bench's students make in their own steps).
    lab_page = next(
        i for i, (_, url, status) in enumerate(seen) if re.search(rf"{prefix}lab(\?|$)", url) and status == 200
    )
    for method, url, status in seen[lab_page:]:
        path = url.split("/jupyterhub", 1)[1].replace(prefix, "/user/{user}/")
        load.requests.append((method, path, status))
    return load


def replay(hub: str, session: requests.Session, user: str, load: Load, timeout: float):
    """Make load's requests as `user` over CONNECTIONS connections; (bytes received, errors)."""
    work = queue.Queue()
    for item in load.requests:
        work.put(item)
    received, errors, lock = [0], [], threading.Lock()

    def connection():
        own = requests.Session()
        own.cookies.update(session.cookies)
        while True:
            try:
                _method, path, status = work.get_nowait()
            except queue.Empty:
                return
            size, error = 0, None
            try:
                with own.get(hub + path.replace("{user}", user), timeout=timeout, stream=True) as answer:
                    size = sum(len(chunk) for chunk in answer.raw.stream(65536, decode_content=False))
                    if answer.status_code >= 400 and status < 400:
                        error = f"{path}: {answer.status_code}"
            except requests.RequestException as failure:
                error = f"{path}: {failure}"
            with lock:
                received[0] += size
                if error:
                    errors.append(error)

    threads = [threading.Thread(target=connection) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return received[0], errors

"""What a person does in the browser, as reusable steps for the box tests."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.box.box import BOX_URL, HUB_URL, patient

PASSWORD = "blue-koala-42"


def sign_up(page, username, password=PASSWORD, confirmation=None, hub=HUB_URL):
    """Fill the signup form; returns (HTTP status of the answer, its alert)."""
    page.goto(f"{hub}/hub/signup")
    page.fill("#username_input", username)
    page.fill("#password_input", password)
    page.fill("#password_confirmation_input", password if confirmation is None else confirmation)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#signup_submit")
    return answer.value.status, page.locator(".alert")


def change_password(page, old, new, again=None):
    """Fill the change-password page shown and send it: (HTTP status, the page's .alert)."""
    page.fill("#old_password_input", old)
    page.fill("#new_password_input", new)
    page.fill("#new_password_confirmation_input", new if again is None else again)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("input[type=submit]").click()
    return answer.value.status, page.locator(".alert")


def go_to(page, url):
    """page.goto, also when the page shown was redirecting itself: the spawn page goes to the
    student's server the moment it is ready, which aborts a navigation begun at that instant."""
    try:
        page.goto(url)
    except PlaywrightError as error:
        if "ERR_ABORTED" not in str(error):
            raise
        page.wait_for_load_state()
        page.goto(url)


def log_in(page, username, password=PASSWORD, hub=HUB_URL):
    """Log in from a clean session; returns the HTTP status of the answer."""
    page.context.clear_cookies()
    go_to(page, f"{hub}/hub/login")
    page.fill("#username_input", username)
    page.fill("#password_input", password)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#login_submit")
    return answer.value.status


def login_error(page):
    return page.locator("p.login_error")


def new_student(page, username, password=PASSWORD, hub=HUB_URL):
    status, alert = sign_up(page, username, password, hub=hub)
    assert status == 200
    expect(alert).to_contain_text("The signup was successful")


def open_lab(page, username, password=PASSWORD, hub=HUB_URL):
    """Log in and wait for JupyterLab (a returning student finds their last tabs)."""
    log_in(page, username, password, hub)
    wait_for_lab(page, username)


def restart_server(page, username):
    """Stop and start one's own server from the hub's Home page, as a student does."""
    page.goto(f"{HUB_URL}/hub/home")
    page.click("#stop")
    # "My Server" becomes "Start My Server" once the server has stopped
    expect(page.locator("#stop")).to_be_hidden(timeout=patient(60_000))
    expect(page.locator("#start")).to_have_text(re.compile("Start My Server"))
    page.click("#start")
    # A stop that outlasts the hub's wait (10 s) lets the page offer Start while
    # the server is still stopping; the hub then shows "Server not running", and
    # a student clicks Launch Server.
    launch = page.get_by_role("button", name="Launch Server")
    expect(page.locator("#jp-main-dock-panel").or_(launch).first).to_be_visible(timeout=patient(120_000))
    if launch.is_visible():
        launch.click()
    wait_for_lab(page, username)


def wait_for_lab(page, username):
    """Wait until JupyterLab is loaded and usable."""
    expect(page).to_have_url(re.compile(rf"/jupyterhub/user/{username}/lab"), timeout=patient(120_000))
    expect(page.locator("#jp-main-dock-panel")).to_be_visible(timeout=patient(120_000))
    # The file browser's New Launcher button; on a phone, where the file browser
    # starts closed, the one on the main area's tab bar.
    new_launcher = page.locator('[data-command="launcher:create"]:visible, .lm-TabBar-addButton:visible')
    expect(new_launcher.first).to_be_visible(timeout=patient(120_000))


def launcher_notebook(page):
    return page.locator('.jp-LauncherCard[data-category="Notebook"]:visible').first


def new_notebook(page):
    """Open a new notebook from a new launcher and wait until its kernel is ready."""
    page.locator('[data-command="launcher:create"]').first.click()
    launcher_notebook(page).click()
    expect(page.locator(".jp-Notebook .jp-Cell .cm-content").first).to_be_visible(timeout=patient(60_000))
    # A person waits until the kernel is ready; a cell run before that is dropped.
    # (the course's kernel: "Python 3 (<course_name>)", molecule's "Python 3 (Physics 9B)")
    expect(page.get_by_text(re.compile(r"^Python 3.* \| Idle$")).first).to_be_visible(timeout=patient(60_000))


def run_cell(page, code, timeout=None):
    """Type code into the last cell, run it, and return the text of its output."""
    timeout = patient(60_000) if timeout is None else timeout
    if "\n" in code:  # the editor indents typed lines itself; one line keeps code intact
        code = f"exec({code!r})"
    cells = page.locator(".jp-Notebook .jp-Cell")
    before = cells.count()
    cells.last.locator(".cm-content").click()
    page.keyboard.type(code)
    page.keyboard.press("Shift+Enter")
    ran = cells.nth(before - 1)
    output = ran.locator(".jp-OutputArea-output").first
    expect(output).to_be_visible(timeout=timeout)
    return output.inner_text()


def record_requests(page):
    """Every URL this browser asks for from now on, websockets included (a list that grows)."""
    requested = []
    page.context.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    return requested


def hosts_besides_the_box(requested):
    """The hosts, other than the box, that recorded requests went to."""
    box = urlsplit(BOX_URL).netloc
    return sorted({urlsplit(url).netloc for url in requested if not re.match(r"(data|blob):", url)} - {box})

"""Logins under pressure: a burst of wrong passwords meets the lockout, and a
flood of logins and signups from one address is refused with a readable page
(nginx's limit_req, then the hub's bounded password queue), never a 500 or a
stall, while a student at the same time still gets in.

Plain HTTP from threads, as many browsers would post; the box is BOX_URL.
"""

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.box import lab
from tests.box.box import HUB_URL, SLOWNESS, Browser, NoRedirects, new_student_name, patient, wait_until
from tests.box.lab import new_notebook, new_student, open_lab, run_cell

HUB_PORT = 8081  # jupyterhub_hub_port: the hub's own port on the box, 127.0.0.1 only

PASSWORD = "blue-koala-42"
BUSY = "The box is busy, try again in a few seconds."
LOCKED = "Too many wrong passwords"
# nginx lets an address post web_login_burst forms at once (60 by default) and
# then 10 a second: after a flood, wait until the burst is back for later tests.
REFILL_SECONDS = 10


def post_anonymously(path, token, **fields):
    """Post a form with a token from an earlier page, as a fresh browser with only the
    _xsrf cookie (the hub gives every anonymous visitor from one address the same
    token): a flood needs no page per post."""
    request = urllib.request.Request(
        f"{HUB_URL}/hub/{path}",
        data=urllib.parse.urlencode({"_xsrf": token, **fields}).encode(),
        headers={"Cookie": f"_xsrf={token}"},
    )
    try:
        with urllib.request.build_opener(NoRedirects()).open(request, timeout=120) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def sign_up(name, password=PASSWORD):
    return Browser().post_form("signup", username=name, signup_password=password, signup_password_confirmation=password)


def log_in(name, password=PASSWORD):
    return Browser().post_form("login", username=name, password=password)


def forms_are_accepted_again():
    """True once a login post is no longer refused by nginx (its burst came back)."""
    return log_in("nobody-at-all", "not-a-password")[0] != 429


def test_a_burst_of_wrong_passwords_locks_the_name_and_the_right_one_is_refused():
    """Each try counts before its password is checked: the twelve simultaneous
    wrong passwords get no more checks than five slow ones, and the right
    password after them meets the lockout instead of slipping through."""
    name = new_student_name("burst")
    status, page = sign_up(name)
    assert status == 200 and "The signup was successful" in page
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda i: log_in(name, f"wrong-guess-{i}"), range(12)))
    assert {status for status, _ in answers} == {200}, Counter(status for status, _ in answers)
    assert any(LOCKED in page for _, page in answers)
    status, page = log_in(name)
    assert status == 200 and LOCKED in page


def test_a_flood_of_logins_and_signups_is_refused_readably_while_a_student_gets_in():
    flooder, student = new_student_name("flood"), new_student_name("calm")
    for name in (flooder, student):
        assert "The signup was successful" in sign_up(name)[1]
    wait_until(forms_are_accepted_again, 30, "login posts were still refused before the flood")

    stop = threading.Event()
    student_in, student_saw = {}, []

    def student_logs_in():
        """A student at the same moment, trying again when the box says it is busy."""
        started = time.monotonic()
        while not stop.is_set():
            status, page = log_in(student)
            if status == 302:
                student_in["seconds"] = time.monotonic() - started
                return
            if status not in (429, 503) or BUSY not in page:
                student_saw.append((status, page[:300]))
                return
            time.sleep(0.5)

    token = Browser().token()

    def flood(i):
        if i % 2:  # a signup with a taken name: refused at once
            return post_anonymously(
                "signup",
                token,
                username=flooder,
                signup_password=PASSWORD,
                signup_password_confirmation=PASSWORD,
            )
        return post_anonymously("login", token, username=flooder, password=PASSWORD)  # a bcrypt check

    waiting_student = threading.Thread(target=student_logs_in)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(30) as pool:
            waiting_student.start()
            answers = list(pool.map(flood, range(300)))
        flood_seconds = time.monotonic() - started
        waiting_student.join(timeout=60 * SLOWNESS)
    finally:
        stop.set()
        waiting_student.join()
        wait_until(forms_are_accepted_again, 60, "login posts were still refused after the flood")
        time.sleep(REFILL_SECONDS)

    statuses = Counter(status for status, _ in answers)
    assert not [s for s in statuses if s >= 500 and s != 503], statuses
    refused = [page for status, page in answers if status in (429, 503)]
    assert refused, f"nothing was refused in a flood of 300 posts in {flood_seconds:.1f} s: {statuses}"
    assert all(BUSY in page for page in refused)
    # everything else is the hub's own answer: a login, or a page that says why not
    assert set(statuses) <= {200, 302, 429, 503}, statuses
    assert not student_saw, f"the student was answered {student_saw}"
    assert "seconds" in student_in, "the student did not get in during or after the flood"
    assert student_in["seconds"] < 60 * SLOWNESS, student_in


# From inside a notebook: 30 wrong passwords for the admin straight to the
# hub's port (past nginx), each claiming one of six made-up addresses in
# X-Real-IP. Believed, six addresses' tries would lock the admin's name as a
# whole (five addresses' worth).
FORGED_TRIES = """
import http.cookiejar, urllib.error, urllib.parse, urllib.request
hub = "http://127.0.0.1:{port}{base}hub/login"
answers, pages = [], []
for address in range(6):
    # the hub ties an anonymous form's token to the address it believes
    claim = {{"X-Real-IP": f"10.66.0.{{address}}"}}
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(urllib.request.Request(hub, headers=claim), timeout=30).read()
    xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
    for guess in range(5):
        form = {{"_xsrf": xsrf, "username": "{admin}", "password": f"guess-{{guess}}"}}
        request = urllib.request.Request(hub, data=urllib.parse.urlencode(form).encode(), headers=claim)
        try:
            with opener.open(request, timeout=60) as answer:
                answers.append(answer.status)
                pages.append(answer.read().decode())
        except urllib.error.HTTPError as error:
            answers.append(error.code)
            pages.append(error.read().decode())
print("answers", sorted(set(answers)), "refused", sum("Wrong username or password" in page for page in pages))
"""


def test_wrong_passwords_sent_from_a_notebook_past_nginx_cannot_lock_the_teacher_out(
    host, page, other_page, admin_credentials
):
    student = new_student_name("forge")
    new_student(page, student)
    open_lab(page, student)
    new_notebook(page)
    code = FORGED_TRIES.format(port=HUB_PORT, base="/jupyterhub/", admin=admin_credentials[0])
    answers = run_cell(page, code, timeout=patient(180_000))
    assert answers.startswith("answers [200] refused "), answers  # real tries: forms the hub took
    try:
        # the teacher, at their own computer (through nginx), still gets in
        assert lab.log_in(other_page, *admin_credentials) == 302
    finally:
        if "/hub/login" in other_page.url:  # locked out after all: the lockout lives in the hub's memory
            host.run_expect([0], "systemctl restart jupyterhub")


def test_nginx_hands_its_secret_header_to_the_hubs_login_and_signup_only(host):
    """The proxy passes a request's headers on to a student's server: the header
    that vouches for X-Real-IP must be on the forms that go to the hub alone."""
    header_file = "/etc/nginx/classbox-hub-header.conf"
    assert host.file(header_file).mode == 0o600 and host.file(header_file).user == "root"
    marked, location = [], None
    for line in host.file("/etc/nginx/nginx.conf").content_string.splitlines():
        if line.strip().startswith("location"):
            location = line.strip()
        elif f"include {header_file}" in line:
            marked.append(location)
    assert marked == ["location = /jupyterhub/hub/login {", "location = /jupyterhub/hub/signup {"], marked

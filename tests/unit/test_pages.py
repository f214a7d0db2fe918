"""The account pages in a real JupyterHub, over HTTP, without a box.

A hub runs in a subprocess on 127.0.0.1 with our authenticator and templates,
an in-memory proxy instead of configurable-http-proxy, and students' folders
in a temporary state root. The tests act as a browser does: read the page's
_xsrf token, post the forms.
"""

import html
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests

import classbox
from classbox import admin, classlist, rules

# The hub imports this checkout's package, wherever pytest found it.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(classbox.__file__))

ADMIN_PASSWORD = "teacher-secret-1"
PASSWORD = "blue-koala-42"

CONFIG = """
from jupyterhub.proxy import Proxy
from classbox import TEMPLATE_DIR


class MemoryProxy(Proxy):
    should_start = False
    routes = {{}}

    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {{"routespec": routespec, "target": target, "data": data}}

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self.routes)


c = get_config()
c.JupyterHub.proxy_class = MemoryProxy
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.bind_url = "http://127.0.0.1:{proxy_port}/jupyterhub/"
c.JupyterHub.db_url = "{db_url}"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.JupyterHub.cleanup_servers = False
c.JupyterHub.authenticator_class = "classbox.authenticator.ClassroomAuthenticator"
c.JupyterHub.template_paths = [TEMPLATE_DIR]
c.Authenticator.admin_users = {{"admin"}}
c.Authenticator.allow_all = True
c.NativeAuthenticator.open_signup = True
c.NativeAuthenticator.minimum_password_length = 8
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 300
c.ClassroomAuthenticator.state_root = "{tmp}/var-lib"
c.ClassroomAuthenticator.must_change_dir = "{tmp}/must-change-password"
c.ClassroomAuthenticator.homework_dir = "{tmp}/homework"
{extra}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A running hub: its URL, database and state root."""

    def __init__(self, tmp, extra=""):
        self.tmp = tmp
        self.db_url = f"sqlite:///{tmp}/jupyterhub.sqlite"
        self.state_root = tmp / "var-lib"
        (self.state_root / "private").mkdir(parents=True)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/jupyterhub/hub"
        config = tmp / "jupyterhub_config.py"
        config.write_text(
            CONFIG.format(port=port, proxy_port=free_port(), db_url=self.db_url, tmp=tmp, extra=textwrap.dedent(extra))
        )
        self.log = open(tmp / "hub.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=tmp,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": PACKAGE_PARENT},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.url}/api", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start:\n" + (tmp / "hub.log").read_text()[-3000:])
            time.sleep(0.2)
        admin.change_password(self.db_url, "admin", ADMIN_PASSWORD)  # as the playbook does

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    running = Hub(tmp_path_factory.mktemp("hub"))
    yield running
    running.stop()


_names = iter(range(10**6))


def new_name(prefix="s"):
    return f"{prefix}{next(_names)}"


def xsrf_of(page):
    return re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)


def post_form(session, url, **fields):
    """Open the page with the form (for its _xsrf token), then post the form."""
    page = session.get(url)
    assert page.status_code == 200, page.text
    return session.post(url, data={"_xsrf": xsrf_of(page), **fields}, allow_redirects=False)


def post_with_token(session, url, **fields):
    """Post as a page of the hub would, with the session's token (for a URL with no form page)."""
    session.get(f"{url.split('/hub/')[0]}/hub/students")
    token = session.cookies.get("_xsrf", path="/jupyterhub/hub/")
    return session.post(url, data={"_xsrf": token, **fields}, allow_redirects=False)


def sign_up(hub, name, password=PASSWORD):
    answer = post_form(
        requests.Session(),
        f"{hub.url}/signup",
        username=name,
        signup_password=password,
        signup_password_confirmation=password,
    )
    return answer.status_code, alert_of(answer)


def log_in(hub, name, password=PASSWORD, session=None):
    session = session or requests.Session()
    answer = post_form(session, f"{hub.url}/login", username=name, password=password)
    return session, answer


def log_in_to(hub, going_to, name, password=PASSWORD):
    """Log in from the login page a link to `going_to` led to (its ?next=)."""
    session = requests.Session()
    answer = post_form(session, f"{hub.url}/login?{urlencode({'next': going_to})}", username=name, password=password)
    return session, answer


def as_admin(hub):
    session, answer = log_in(hub, "admin", ADMIN_PASSWORD)
    assert answer.status_code == 302, answer.text
    return session


def alert_of(answer):
    found = re.search(r'<div class="alert [^"]*"[^>]*>(.*?)</div>', answer.text, re.S) or re.search(
        r'<p class="login_error">(.*?)</p>', answer.text, re.S
    )
    return html.unescape(" ".join(found.group(1).split())) if found else ""


def row_of(page, name):
    found = re.search(rf'<tr data-username="{name}">(.*?)</tr>', page.text, re.S)
    return html.unescape(" ".join(found.group(1).split())) if found else None


def approved(hub, name):
    from nativeauthenticator.orm import UserInfo
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    with Session(create_engine(hub.db_url)) as db:
        info = db.query(UserInfo).filter_by(username=name).first()
        return None if info is None else bool(info.is_authorized)


def student_files(hub, name):
    folder = hub.state_root / "private" / name
    folder.mkdir()
    (folder / "work.ipynb").write_text("{}")
    (hub.state_root / name).symlink_to(f"private/{name}")
    return folder


# --- Nothing changes an account on a GET; a POST needs the page's token --------


def test_get_authorize_and_discard_change_nothing(hub):
    waiting = new_name("wait")
    teacher = as_admin(hub)
    # an unapproved signup, as in approval mode
    sign_up(hub, waiting)
    post_form(teacher, f"{hub.url}/authorize/{waiting}", approved="no")
    assert approved(hub, waiting) is False

    for url in [f"{hub.url}/authorize/{waiting}", f"{hub.url}/discard/{waiting}"]:
        page = teacher.get(url)
        assert page.status_code == 200
        assert '<form method="post"' in page.text and waiting in page.text
        assert approved(hub, waiting) is False


def test_a_post_without_the_pages_token_is_refused_and_changes_nothing(hub):
    waiting = new_name("wait")
    teacher = as_admin(hub)
    sign_up(hub, waiting)
    post_form(teacher, f"{hub.url}/authorize/{waiting}", approved="no")
    for url in [
        f"{hub.url}/authorize/{waiting}",
        f"{hub.url}/discard/{waiting}",
        f"{hub.url}/students/{waiting}/delete",
    ]:
        answer = teacher.post(url, data={"choice": "delete"}, allow_redirects=False)
        assert answer.status_code == 403
    assert approved(hub, waiting) is False


def test_approve_and_discard_from_the_students_page(hub):
    wanted, unwanted = new_name("ok"), new_name("no")
    teacher = as_admin(hub)
    for name in (wanted, unwanted):
        sign_up(hub, name)
        post_form(teacher, f"{hub.url}/authorize/{name}", approved="no")
    page = teacher.get(f"{hub.url}/students")
    assert "waiting for approval" in row_of(page, wanted)
    assert ">Approve</button>" in row_of(page, wanted) and ">Discard</button>" in row_of(page, wanted)

    answer = post_form(teacher, f"{hub.url}/authorize/{wanted}", next="students")
    assert answer.status_code == 200 and f"{wanted} is approved" in alert_of(answer)
    assert approved(hub, wanted) is True
    answer = post_form(teacher, f"{hub.url}/discard/{unwanted}", next="students")
    assert f"The signup of {unwanted} was discarded" in alert_of(answer)
    assert row_of(answer, unwanted) is None and approved(hub, unwanted) is None
    # an approved account is not discarded: that is what Delete is for
    answer = post_form(teacher, f"{hub.url}/discard/{wanted}")
    assert answer.status_code == 409 and "not waiting for approval" in alert_of(answer)


def test_the_authorization_area_posts_too(hub):
    name = new_name("area")
    sign_up(hub, name)
    teacher = as_admin(hub)
    page = teacher.get(f"{hub.url}/authorize")
    assert page.status_code == 200
    assert 'href="/jupyterhub/hub/authorize/' not in page.text
    assert 'href="/jupyterhub/hub/discard/' not in page.text
    answer = post_form(teacher, f"{hub.url}/authorize/{name}", approved="no", next="authorize")
    assert answer.status_code == 200 and f"{name} is no longer approved" in alert_of(answer)
    assert "<h1>Approvals</h1>" in answer.text and approved(hub, name) is False
    answer = post_form(teacher, f"{hub.url}/authorize/{name}", next="authorize")
    assert f"{name} is approved" in alert_of(answer) and approved(hub, name) is True


# --- Lockouts on the Students page ---------------------------------------------------


def test_the_students_page_shows_a_lockout_and_clears_it(hub):
    name = new_name("lock")
    sign_up(hub, name)
    for _ in range(5):
        _, answer = log_in(hub, name, "wrong-password-1")
    assert "Too many wrong passwords" in alert_of(answer)
    teacher = as_admin(hub)
    assert "locked out" in row_of(teacher.get(f"{hub.url}/students"), name)

    assert teacher.get(f"{hub.url}/students/{name}/clear-lockout").status_code == 200
    _, answer = log_in(hub, name)
    assert "Too many wrong passwords" in alert_of(answer), "a GET cleared the lockout"

    answer = post_form(teacher, f"{hub.url}/students/{name}/clear-lockout")
    assert answer.status_code == 200 and f"{name} can log in again now" in alert_of(answer)
    assert "locked out" not in row_of(answer, name)
    _, answer = log_in(hub, name)
    assert answer.status_code == 302


def test_a_burst_of_wrong_passwords_locks_the_name_and_the_right_one_is_refused(hub):
    name = new_name("burst")
    sign_up(hub, name)

    def wrong(i):
        return log_in(hub, name, f"guess-{i}-x")[1].status_code

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(wrong, range(12))) == {200}
    _, answer = log_in(hub, name)
    assert answer.status_code == 200 and "Too many wrong passwords" in alert_of(answer)


# --- Deleting accounts, with or without files; names that stay taken ---------------


def test_delete_with_files_frees_the_name(hub):
    name = new_name("gone")
    sign_up(hub, name)
    folder = student_files(hub, name)
    teacher = as_admin(hub)
    page = teacher.get(f"{hub.url}/students/{name}/delete")
    assert page.status_code == 200 and 'value="delete"' in page.text
    assert folder.exists() and approved(hub, name) is True

    answer = post_form(teacher, f"{hub.url}/students/{name}/delete", choice="delete")
    assert answer.status_code == 200, answer.text
    assert "and the files were deleted" in alert_of(answer)
    assert not folder.exists() and not (hub.state_root / name).is_symlink()
    assert approved(hub, name) is None and row_of(answer, name) is None
    assert sign_up(hub, name) == (200, rules.SIGNED_UP)


def test_a_name_deleted_without_its_files_cannot_be_signed_up_again(hub):
    name = new_name("kept")
    sign_up(hub, name)
    folder = student_files(hub, name)
    teacher = as_admin(hub)
    answer = post_form(teacher, f"{hub.url}/students/{name}/delete", choice="keep")
    assert "the files are kept" in alert_of(answer)
    assert (folder / "work.ipynb").exists()
    status, alert = sign_up(hub, name, "someone-else-9")
    assert status == 200 and "belonged to a deleted account" in alert


def test_the_admin_cannot_be_deleted_from_the_students_page(hub):
    teacher = as_admin(hub)
    answer = post_form(teacher, f"{hub.url}/students/admin/delete", choice="delete")
    assert answer.status_code == 409 and "admin named in the inventory" in alert_of(answer)
    assert approved(hub, "admin") is True


def test_an_account_made_on_the_admin_page_is_taken_until_the_teacher_sets_its_password(hub):
    name = new_name("made")
    teacher = as_admin(hub)
    teacher.get(f"{hub.url}/admin")
    xsrf = teacher.cookies.get("_xsrf", path="/jupyterhub/hub/")
    created = teacher.post(f"{hub.url}/api/users/{name}", headers={"X-XSRFToken": xsrf})
    assert created.status_code == 201, created.text
    status, alert = sign_up(hub, name)
    assert "your teacher created that account" in alert
    assert "no password yet" in row_of(teacher.get(f"{hub.url}/students"), name)

    answer = post_form(
        teacher,
        f"{hub.url}/change-password/{name}",
        new_password=PASSWORD,
        new_password_confirmation=PASSWORD,
    )
    assert f"The password for {name} has been changed" in alert_of(answer)
    assert log_in(hub, name)[1].status_code == 302


def test_an_unknown_account_is_a_readable_404(hub):
    teacher = as_admin(hub)
    assert teacher.get(f"{hub.url}/students/nobody-here/delete").status_code == 404
    answer = post_with_token(teacher, f"{hub.url}/students/nobody-here/delete")
    assert answer.status_code == 404 and "There is no account 'nobody-here'" in alert_of(answer)
    page = teacher.get(f"{hub.url}/authorize/%3Cscript%3E")
    assert page.status_code == 404 and "<script>" not in page.text


# --- A busy box says so ------------------------------------------------------------


def test_a_full_password_queue_answers_503_with_the_login_page(tmp_path):
    busy_hub = Hub(tmp_path, extra="c.ClassroomAuthenticator.password_checks_waiting = 0\n")
    try:
        names = [new_name("many") for _ in range(12)]
        for name in names:
            sign_up(busy_hub, name)

        def login(name):
            answer = log_in(busy_hub, name)[1]
            return answer.status_code, alert_of(answer), answer.headers.get("Retry-After")

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(login, names))
        busy = [a for a in answers if a[0] == 503]
        assert busy, answers
        assert all(a == (503, "The box is busy, try again in a few seconds.", "5") for a in busy)
        assert {a[0] for a in answers} <= {302, 503}
        # and no wrong try was counted: each of them logs in now
        assert all(log_in(busy_hub, name)[1].status_code == 302 for name in names)
    finally:
        busy_hub.stop()


def test_the_signup_page_states_the_username_rule_of_the_package(hub):
    from classbox import usernames

    page = requests.get(f"{hub.url}/signup")
    assert page.status_code == 200
    assert usernames.RULE in html.unescape(" ".join(page.text.split()))


# --- A class in one paste ------------------------------------------------------------


def slips_of(page):
    return re.findall(
        r'<span class="slip-username">([^<]*)</span>.*?<span class="slip-password">([^<]*)</span>', page.text, re.S
    )


def refused_of(page):
    found = re.search(r'<ul id="refused">(.*?)</ul>', page.text, re.S)
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S) if found else []
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", "", item).split())) for item in items]


def test_a_pasted_class_gets_accounts_and_slips_that_log_in_and_must_change_first(hub):
    tag = new_name("c")
    existing = new_name("old")
    sign_up(hub, existing)
    teacher = as_admin(hub)
    students = teacher.get(f"{hub.url}/students")
    assert 'href="/jupyterhub/hub/students/add-class"' in students.text and "Add a class" in students.text
    form = teacher.get(f"{hub.url}/students/add-class")
    assert form.status_code == 200
    assert 'id="class-list"' in form.text and 'id="add-class"' in form.text
    assert re.search(r'id="must-change"\s+checked', form.text)

    class_list = f"Student;Group\nAda {tag};9B\nZoë {tag};9B\n9 Lives;9B\n{existing};9B\nada.{tag};9C\n"
    answer = post_form(teacher, f"{hub.url}/students/add-class", class_list=class_list, must_change="on")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    assert "2 new accounts" in html.unescape(answer.text)
    slips = slips_of(answer)
    assert [name for name, _ in slips] == [f"ada-{tag}", f"zoe-{tag}"]
    port = hub.url.split(":")[2].split("/")[0]
    assert f"<strong>http://127.0.0.1:{port}/jupyterhub/</strong>" in answer.text
    refused = refused_of(answer)
    assert len(refused) == 3
    assert refused[0].startswith("Line 4, 9 Lives: That username has characters")
    assert refused[1] == f"Line 5, {existing}: '{existing}' {classlist.EXISTING}."
    assert refused[2] == f"Line 6, ada.{tag}: 'ada-{tag}' is already on line 2 of this list."
    assert approved(hub, f"zoe-{tag}") is True
    assert (hub.tmp / "must-change-password" / f"zoe-{tag}").exists()
    # the existing account kept its password
    assert log_in(hub, existing)[1].status_code == 302

    # The slip's password logs in, and the first stop is choosing one's own.
    name, password = slips[0]
    student, answer = log_in(hub, name, password)
    assert answer.status_code == 302 and answer.headers["Location"] == "/jupyterhub/hub/change-password"
    page = student.get(f"{hub.url}/change-password")
    assert rules.MUST_CHANGE in alert_of(page)
    # No server before that: Start My Server (or a lesson's link) leads to the page,
    # which leads back there once the password is changed.
    spawn = student.get(f"{hub.url}/spawn?next=%2Fjupyterhub%2Fhub%2Flessons", allow_redirects=False)
    assert spawn.status_code == 302, spawn.text
    going_on = "/jupyterhub/hub/spawn?next=%2Fjupyterhub%2Fhub%2Flessons"
    assert spawn.headers["Location"] == "/jupyterhub/hub/change-password?" + urlencode({"next": going_on})
    # an admin's start, or the API's, is refused with the sentence
    student.get(f"{hub.url}/home")
    xsrf = student.cookies.get("_xsrf", path="/jupyterhub/hub/")
    refused_start = student.post(f"{hub.url}/api/users/{name}/server", headers={"X-XSRFToken": xsrf})
    assert refused_start.status_code == 403 and rules.MUST_CHANGE in refused_start.text

    change_here = f"{hub.url}{spawn.headers['Location'].removeprefix('/jupyterhub/hub')}"
    same = post_form(
        student, change_here, old_password=password, new_password=password, new_password_confirmation=password
    )
    assert alert_of(same) == rules.SAME_AS_SLIP
    changed = post_form(
        student, change_here, old_password=password, new_password="quiet-heron-31",
        new_password_confirmation="quiet-heron-31",
    )  # fmt: skip
    assert "Your password has been changed" in alert_of(changed)
    assert f'id="continue" class="btn btn-jupyter ms-2" href="{html.escape(going_on)}"' in changed.text
    assert not (hub.tmp / "must-change-password" / name).exists()
    answer = log_in(hub, name, "quiet-heron-31")[1]
    assert answer.status_code == 302 and "change-password" not in answer.headers["Location"]

    # a reset by the teacher leaves the marker of a student who has not changed yet
    other, other_password = slips[1]
    post_form(teacher, f"{hub.url}/change-password/{other}", new_password=PASSWORD, new_password_confirmation=PASSWORD)
    assert (hub.tmp / "must-change-password" / other).exists()
    # deleting the account removes it
    post_form(teacher, f"{hub.url}/students/{other}/delete", choice="keep")
    assert not (hub.tmp / "must-change-password" / other).exists()


def test_a_slip_student_who_logs_in_from_a_lessons_link_goes_on_to_it_after_the_change(hub):
    teacher = as_admin(hub)
    [(name, password)] = slips_of(
        post_form(teacher, f"{hub.url}/students/add-class", class_list=new_name("link"), must_change="on")
    )
    student, answer = log_in_to(hub, "/jupyterhub/hub/lessons", name, password)
    assert answer.headers["Location"] == "/jupyterhub/hub/change-password?next=%2Fjupyterhub%2Fhub%2Flessons"
    changed = post_form(
        student, f"{hub.url}/change-password?next=%2Fjupyterhub%2Fhub%2Flessons", old_password=password,
        new_password="quiet-heron-31", new_password_confirmation="quiet-heron-31",
    )  # fmt: skip
    assert 'href="/jupyterhub/hub/lessons">Continue</a>' in changed.text
    # after a change that was not a slip's, no Continue: the student was not on their way anywhere
    again = post_form(
        student, f"{hub.url}/change-password", old_password="quiet-heron-31",
        new_password="calm-otter-58", new_password_confirmation="calm-otter-58",
    )  # fmt: skip
    assert "Your password has been changed" in alert_of(again) and "Continue" not in again.text
    # a Continue to another site is not offered
    elsewhere = post_form(
        student, f"{hub.url}/change-password?next=https%3A%2F%2Fexample.org%2F", old_password="calm-otter-58",
        new_password="quiet-heron-31", new_password_confirmation="quiet-heron-31",
    )  # fmt: skip
    assert "example.org" not in elsewhere.text.split('role="alert"')[-1]


def test_the_new_password_must_differ_from_the_current_one(hub):
    name = new_name("same")
    assert sign_up(hub, name)[0] == 200
    student, _ = log_in(hub, name)
    same = post_form(
        student, f"{hub.url}/change-password", old_password=PASSWORD, new_password=PASSWORD,
        new_password_confirmation=PASSWORD,
    )  # fmt: skip
    assert alert_of(same) == rules.SAME_PASSWORD
    assert log_in(hub, name)[1].status_code == 302


def test_without_must_change_the_student_goes_straight_in(hub):
    name = new_name("free")
    teacher = as_admin(hub)
    answer = post_form(teacher, f"{hub.url}/students/add-class", class_list=name)
    [(created, password)] = slips_of(answer)
    assert created == name and "choose your own password" not in answer.text
    answer = log_in(hub, name, password)[1]
    assert answer.status_code == 302 and "change-password" not in answer.headers["Location"]


def test_an_empty_or_too_long_class_list_is_a_readable_400(hub):
    teacher = as_admin(hub)
    answer = post_form(teacher, f"{hub.url}/students/add-class", class_list=" \n", must_change="on")
    assert answer.status_code == 400 and alert_of(answer) == classlist.NO_NAMES
    many = "\n".join(new_name("many") for _ in range(classlist.MAX_NAMES + 1))
    answer = post_form(teacher, f"{hub.url}/students/add-class", class_list=many)
    assert answer.status_code == 400 and f"At most {classlist.MAX_NAMES} names" in alert_of(answer)
    # the paste and the unticked box are kept
    assert many.split()[-1] in answer.text and not re.search(r'id="must-change"\s+checked', answer.text)
    assert approved(hub, many.split()[0]) is None


def test_collecting_a_folder_nobody_has_says_so_and_a_reload_leads_back_to_the_form(hub):
    teacher = as_admin(hub)
    answer = post_with_token(teacher, f"{hub.url}/students/collect", assignment="nosuchfolder")
    assert answer.status_code == 200, answer.text
    assert "alert-warning" in answer.text
    said = " ".join(html.unescape(answer.text).split())
    assert "No student has a folder named nosuchfolder (nor lessons/nosuchfolder): check its name" in said
    too_long = post_with_token(teacher, f"{hub.url}/students/collect", assignment="w" * 300)
    assert too_long.status_code == 400 and "longer than 100 characters" in alert_of(too_long)
    again = teacher.get(f"{hub.url}/students/collect", allow_redirects=False)
    assert again.status_code == 302 and again.headers["Location"] == "/jupyterhub/hub/students"


def test_a_student_cannot_add_a_class(hub):
    name = new_name("s")
    sign_up(hub, name)
    student, _ = log_in(hub, name)
    assert student.get(f"{hub.url}/students/add-class").status_code == 403
    answer = post_with_token(student, f"{hub.url}/students/add-class", class_list="intruder")
    assert answer.status_code == 403 and approved(hub, "intruder") is None

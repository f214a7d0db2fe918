import asyncio
import io
import json
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from nativeauthenticator.orm import UserInfo
from tornado import web

from classbox import classlist, passwords, rules, usernames


@pytest.fixture
def quick_hashes(monkeypatch):
    """bcrypt at its lowest cost: the same code, a hundred times faster."""
    monkeypatch.setattr(passwords, "COST", 4)


@pytest.fixture
def auth(authenticator, tmp_path):
    authenticator.must_change_dir = str(tmp_path / "must-change")
    authenticator.check_common_password = True
    return authenticator


def create(auth, text, must_change=True):
    return asyncio.run(classlist.create_accounts(auth, classlist.parse(text), must_change))


def log_in(auth, name, password):
    return asyncio.run(auth.authenticate(None, {"username": name, "password": password}))


# --- Reading a pasted list ------------------------------------------------------


def test_one_name_per_line_with_blank_lines_and_their_line_numbers():
    assert classlist.parse("Ada Lovelace\n\n  Alan Turing  \r\n\t\nGrace Hopper") == [
        (1, "Ada Lovelace"),
        (3, "Alan Turing"),
        (5, "Grace Hopper"),
    ]


def test_a_csv_export_with_a_header_takes_the_name_column():
    text = 'id,Full Name,Group\n1,Ada Lovelace,9B\n2,"Hopper, Grace",9B\n3,,9B\n'
    assert classlist.parse(text) == [(2, "Ada Lovelace"), (3, "Hopper, Grace")]


def test_a_username_column_wins_over_a_name_column():
    text = "Name;Username;Class\nAda Lovelace;ada;9B\nAlan Turing;alan_t;9B\n"
    assert classlist.parse(text) == [(2, "ada"), (3, "alan_t")]


def test_tabs_semicolons_and_a_first_and_last_name():
    assert classlist.parse("Student\tGroup\nZoë O'Brien\t9B\n") == [(2, "Zoë O'Brien")]
    assert classlist.parse("LOGIN;group\nzoe;9B\n") == [(2, "zoe")]
    assert classlist.parse("First name,Last name\nAda,Lovelace\n") == [(2, "Ada Lovelace")]


def test_a_byte_order_mark_and_a_lone_header_are_left_out():
    assert classlist.parse("\ufeffName\r\nAda\r\nAlan\r\n") == [(2, "Ada"), (3, "Alan")]
    assert classlist.parse("\ufeffAda\nAlan") == [(1, "Ada"), (2, "Alan")]


def test_a_name_with_a_comma_is_a_name_not_a_header():
    assert classlist.parse("Lovelace, Ada\nTuring, Alan") == [(1, "Lovelace, Ada"), (2, "Turing, Alan")]


def test_an_empty_or_too_long_paste_says_why():
    assert classlist.read_paste(" \n\n") == ([], classlist.NO_NAMES)
    assert classlist.read_paste("Name\n")[1] == classlist.NO_NAMES
    lines, problem = classlist.read_paste("\n".join(f"student{i}" for i in range(201)))
    assert len(lines) == 201 and f"At most {classlist.MAX_NAMES} names" in problem and "201" in problem
    assert classlist.read_paste("x" * (classlist.MAX_CHARACTERS + 1))[1].startswith("This list is too long")
    assert classlist.read_paste("ada\nalan") == ([(1, "ada"), (2, "alan")], None)


@pytest.mark.parametrize(
    ("name", "username"),
    [
        ("Ada Lovelace", "ada-lovelace"),
        ("Zoë O'Brien", "zoe-obrien"),
        ("  José   Núñez ", "jose-nunez"),
        ("Jürgen Strauß", "jurgen-strauss"),
        ("Łukasz Søren", "lukasz-soren"),
        ("J. R. Tolkien", "j-r-tolkien"),
        ("ada_l2", "ada_l2"),
        ("-Ada-", "ada"),
        ("李雷", ""),
    ],
)
def test_a_name_becomes_a_username_by_the_documented_rule(name, username):
    assert classlist.to_username(name) == username
    assert not username or usernames.well_formed(username)


# --- Passwords --------------------------------------------------------------------


def test_the_words_are_short_common_and_lowercase():
    assert len(set(classlist.WORDS)) == len(classlist.WORDS) >= 300
    assert all(re.fullmatch(r"[a-z]{4,6}", word) for word in classlist.WORDS)
    assert classlist.PASSWORD_BITS >= 30


def test_a_password_is_three_words_and_two_digits_the_hub_accepts(auth):
    made = {classlist.new_password(auth.minimum_password_length) for _ in range(200)}
    assert len(made) == 200
    for password in made:
        assert re.fullmatch(r"[a-z]{4,6}-[a-z]{4,6}-[2-9]{2}-[a-z]{4,6}", password), password
        assert auth.password_problem(password, password) is None


def test_a_longer_minimum_gets_more_words(auth):
    auth.minimum_password_length = 30
    password = classlist.new_password(30)
    assert len(password) >= 30 and auth.password_problem(password, password) is None


# --- Creating the accounts --------------------------------------------------------


def test_thirty_names_three_refused_and_one_existing_make_26_accounts(auth, quick_hashes):
    asyncio.run(auth.create_user("old-one", "classroom-42"))
    fresh = [f"Student {chr(ord('a') + i // 10)}{i}" for i in range(26)]
    text = "\n".join(fresh[:10] + ["admin", "9 Lives", "old-one", "Teacher"] + fresh[10:])
    result = create(auth, text)

    assert len(result.created) == 26
    assert [name for name, _ in result.created] == [classlist.to_username(name) for name in fresh]
    assert [name for _, _, name in result.existing] == ["old-one"]
    assert [(line, text) for line, text, _ in result.refused] == [(11, "admin"), (12, "9 Lives"), (14, "Teacher")]
    assert "already taken" in result.refused[0][2]
    assert "characters the box cannot use" in result.refused[1][2]
    assert "reserved" in result.refused[2][2]
    assert result.not_created()[2] == (13, "old-one", f"'old-one' {classlist.EXISTING}.")
    for name, password in result.created:
        info = auth.get_user(name)
        assert info.is_authorized and passwords.check_password(password, info.password)
    # the existing account is untouched: its password still works
    assert log_in(auth, "old-one", "classroom-42") == "old-one"
    assert not any(password in repr(result) for _, password in result.created)


def test_a_name_twice_in_the_list_is_created_once(auth, quick_hashes):
    result = create(auth, "Ada Lovelace\nada lovelace\nADA.LOVELACE")
    assert [name for name, _ in result.created] == ["ada-lovelace"]
    assert [reason for _, _, reason in result.refused] == ["'ada-lovelace' is already on line 1 of this list."] * 2


def test_a_name_with_no_usable_letters_is_refused_with_the_rule(auth):
    result = create(auth, "李雷")
    assert result.created == [] and result.refused == [(1, "李雷", classlist.NO_LETTERS)]


def test_a_deleted_accounts_files_block_its_name_as_at_signup(auth, quick_hashes, tmp_path):
    (tmp_path / "var-lib" / "private" / "kept").mkdir(parents=True)
    result = create(auth, "kept")
    assert result.created == [] and "belonged to a deleted account" in result.refused[0][2]


def test_a_full_password_queue_refuses_with_busy(auth, monkeypatch):
    auth.password_checks_waiting = 0
    monkeypatch.setattr(passwords.QUEUE, "admitted", passwords.QUEUE.threads)
    result = create(auth, "ada\nalan")
    assert result.busy and result.created == []
    assert result.refused == [(1, "ada", rules.BUSY), (2, "alan", rules.BUSY)]
    assert auth.get_user("ada") is None


def test_a_class_never_fills_the_queue_by_itself(auth, quick_hashes, monkeypatch):
    """Its passwords are hashed no more at once than the queue has threads: logins keep their turn."""
    auth.password_checks_waiting = 0
    monkeypatch.setattr(passwords.QUEUE, "threads", 1)
    result = create(auth, "\n".join(f"s{i}" for i in range(6)))
    assert len(result.created) == 6 and not result.busy


def test_the_event_loop_keeps_answering_while_passwords_are_hashed(auth):
    started = time.monotonic()
    passwords.hash_password("one-hash-timed")
    one_hash = time.monotonic() - started
    gaps = []

    async def scenario():
        ticking = True

        async def tick():
            last = time.monotonic()
            while ticking:
                await asyncio.sleep(0.005)
                gaps.append(time.monotonic() - last)
                last = time.monotonic()

        ticker = asyncio.ensure_future(tick())
        result = await classlist.create_accounts(auth, [(1, "ann"), (2, "ben"), (3, "cat"), (4, "dan")], True)
        ticking = False
        await ticker
        return result

    assert len(asyncio.run(scenario()).created) == 4
    assert max(gaps) < one_hash, "a password was hashed on the event loop"


# --- Must change the password -----------------------------------------------------


def test_must_change_marks_the_new_accounts_only(auth, quick_hashes):
    asyncio.run(auth.create_user("old-one", "classroom-42"))
    result = create(auth, "ada\nold-one")
    assert [name for name, _ in result.created] == ["ada"]
    assert auth.must_change("ada") and not auth.must_change("old-one")
    assert [p.name for p in Path(auth.must_change_dir).iterdir()] == ["ada"]
    result = create(auth, "alan", must_change=False)
    assert result.created and not auth.must_change("alan")


def test_the_marker_goes_with_the_account_and_only_for_a_valid_name(auth):
    auth.set_must_change("ada", True)
    auth.set_must_change("../etc", True)
    assert auth.must_change("ada") and not auth.must_change("../etc")
    auth.delete_user(SimpleNamespace(name="ada"))
    assert not auth.must_change("ada")
    auth.set_must_change("ada", False)  # nothing to remove: no error


def test_no_server_before_the_student_has_changed_the_password(auth):
    spawner = SimpleNamespace(hub=SimpleNamespace(base_url="/jupyterhub/hub/"))
    assert auth.pre_spawn_start(SimpleNamespace(name="ada"), spawner) is None
    auth.set_must_change("ada", True)
    with pytest.raises(web.HTTPError) as refused:
        auth.pre_spawn_start(SimpleNamespace(name="ada"), spawner)
    assert refused.value.status_code == 403
    assert refused.value.jupyterhub_message == rules.MUST_CHANGE
    assert 'href="/jupyterhub/hub/change-password"' in refused.value.jupyterhub_html_message


# --- classbox-accounts ------------------------------------------------------------


def run_cli(monkeypatch, capsys, stdin, *args):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = classlist.main(list(args))
    return code, capsys.readouterr()


def test_the_command_creates_the_accounts_and_prints_json_with_the_sheet(
    db, db_url, tmp_path, monkeypatch, capsys, quick_hashes
):
    must_change_dir = tmp_path / "must-change"
    (tmp_path / "var-lib").mkdir()
    common = ["--db-url", db_url, "--state-root", str(tmp_path / "var-lib"), "--must-change-dir", str(must_change_dir)]
    args = [*common, "--address", "http://box.lan/jupyterhub/", "--must-change", "--admins", "admin"]
    args += ["--reserved", "gym"]
    code, out = run_cli(monkeypatch, capsys, "Name,Group\nAda Lovelace,9B\nAdmin,9B\nGym,9B\nZoë,9B\n", *args)
    assert code == 0, out.err
    answer = json.loads(out.out)
    assert [account["username"] for account in answer["created"]] == ["ada-lovelace", "zoe"]
    assert answer["existing"] == []
    assert [(r["line"], r["text"]) for r in answer["refused"]] == [(3, "Admin"), (4, "Gym")]
    assert "reserved" in answer["refused"][1]["reason"]
    sheet = answer["sheet_html"]
    assert sheet.startswith("<!DOCTYPE html>") and sheet.count('class="slip"') == 2
    assert "http://box.lan/jupyterhub/" in sheet and "size: A4" in sheet
    for account in answer["created"]:
        assert f'<span class="slip-password">{account["password"]}</span>' in sheet
        info = db.query(UserInfo).filter_by(username=account["username"]).one()
        assert info.is_authorized and passwords.check_password(account["password"], info.password)
    assert sorted(p.name for p in must_change_dir.iterdir()) == ["ada-lovelace", "zoe"]

    # again: both exist now, and keep their passwords
    code, out = run_cli(monkeypatch, capsys, "Ada Lovelace\nzoe\n", *common)
    answer = json.loads(out.out)
    assert answer["created"] == [] and answer["existing"] == ["ada-lovelace", "zoe"]
    assert 'class="slip"' not in answer["sheet_html"]


def test_the_command_refuses_an_empty_list(db, db_url, monkeypatch, capsys):
    code, out = run_cli(monkeypatch, capsys, "\n\n", "--db-url", db_url)
    assert code == 2 and classlist.NO_NAMES in out.err and out.out == ""

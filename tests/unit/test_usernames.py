import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classbox import passwords, usernames

ROOT = Path(usernames.__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "raw, expected",
    [("Anna", "anna"), ("  bob  ", "bob"), ("MARIA-2", "maria-2"), ("\tli_wei\n", "li_wei")],
)
def test_normalize_strips_and_lowercases(raw, expected):
    assert usernames.normalize(raw) == expected


@pytest.mark.parametrize("name", ["anna", "bob2", "li_wei", "maria-jose", "a" * 32])
def test_good_names_have_no_problem(name, tmp_path):
    assert usernames.problem(name, state_root=str(tmp_path)) is None


@pytest.mark.parametrize(
    "name, words",
    [
        ("", "choose a username"),
        ("a" * 33, "too long"),
        ("2anna", "characters"),
        ("../etc", "characters"),
        ("anna/bob", "characters"),
        ("anna bob", "characters"),
        ("anna,bob", "characters"),
        ("josé", "characters"),
        ("-anna", "characters"),
        ("root", "reserved"),
        ("jupyterhub", "reserved"),
        ("admin", "reserved"),
    ],
)
def test_bad_names_say_why(name, words, tmp_path):
    message = usernames.problem(name, state_root=str(tmp_path))
    assert message is not None and words in message


@pytest.mark.parametrize(
    "name, well_formed",
    [
        ("anna", True),
        ("a" * 32, True),
        ("root", True),
        ("admin", True),
        ("", False),
        ("a" * 33, False),
        ("2anna", False),
        ("Anna", False),
        ("../etc", False),
        (None, False),
        (5, False),
    ],
)
def test_well_formed_is_the_rule_without_reserved_or_taken_names(name, well_formed):
    # backup and restore accept these names (the admin has a folder too); signup refuses reserved ones
    assert usernames.well_formed(name) is well_formed
    if isinstance(name, str):
        assert (usernames.form_problem(name) is None) is well_formed


def test_a_name_that_breaks_the_rule_is_refused_at_signup_with_the_rule(tmp_path):
    assert usernames.problem("a" * 33, state_root=str(tmp_path)) == usernames.form_problem("a" * 33)
    assert usernames.RULE in usernames.problem("Anna Smith", state_root=str(tmp_path))


def test_extra_reserved_names(tmp_path):
    assert "reserved" in usernames.problem("miss-smith", {"miss-smith"}, str(tmp_path))


def test_name_of_an_existing_system_directory_is_refused(tmp_path):
    (tmp_path / "dpkg").mkdir()
    assert "system" in usernames.problem("dpkg", state_root=str(tmp_path))


def test_a_students_own_state_link_does_not_block_the_name(tmp_path):
    os.symlink("private/anna", tmp_path / "anna")
    assert usernames.problem("anna", state_root=str(tmp_path)) is None


def test_a_link_elsewhere_blocks_the_name(tmp_path):
    os.symlink("/etc", tmp_path / "anna")
    assert usernames.problem("anna", state_root=str(tmp_path)) is not None


# --- Folders left by deleted accounts, and deleting them ------------------------


def student_folder(state_root, name, content="work"):
    folder = state_root / "private" / name
    folder.mkdir(parents=True)
    (folder / "notebook.ipynb").write_text(content)
    os.symlink(f"private/{name}", state_root / name)
    return folder


def test_a_leftover_folder_or_link_is_found(tmp_path):
    assert not usernames.has_leftover_folder("anna", str(tmp_path))
    student_folder(tmp_path, "anna")
    assert usernames.has_leftover_folder("anna", str(tmp_path))
    os.symlink("private/gone", tmp_path / "gone")  # a link whose folder is gone
    assert usernames.has_leftover_folder("gone", str(tmp_path))


def test_remove_folder_removes_the_folder_and_its_link_only(tmp_path):
    student_folder(tmp_path, "anna")
    student_folder(tmp_path, "anna2")
    assert usernames.remove_folder("anna", state_root=str(tmp_path)) is True
    assert not os.path.lexists(tmp_path / "anna")
    assert not os.path.lexists(tmp_path / "private" / "anna")
    assert (tmp_path / "private" / "anna2" / "notebook.ipynb").exists()
    assert os.path.islink(tmp_path / "anna2")
    assert usernames.remove_folder("anna", state_root=str(tmp_path)) is False


def test_remove_folder_never_follows_links_inside(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    folder = student_folder(tmp_path / "var-lib", "anna")
    os.symlink(elsewhere, folder / "link-out")
    usernames.remove_folder("anna", state_root=str(tmp_path / "var-lib"))
    assert (elsewhere / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize("name", ["../etc", "", "root", "dpkg", "a/b", "systemd", "anna/.."])
def test_remove_folder_refuses_anything_but_a_students_name(tmp_path, name):
    (tmp_path / "dpkg").mkdir()
    (tmp_path / "private" / "systemd").mkdir(parents=True)
    with pytest.raises(ValueError, match="does not delete"):
        usernames.remove_folder(name, state_root=str(tmp_path))
    assert (tmp_path / "dpkg").is_dir() and (tmp_path / "private" / "systemd").is_dir()


def test_remove_folder_refuses_a_folder_that_is_a_link(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "var-lib" / "private").mkdir(parents=True)
    os.symlink(elsewhere, tmp_path / "var-lib" / "private" / "anna")
    with pytest.raises(ValueError, match="not a plain folder"):
        usernames.remove_folder("anna", state_root=str(tmp_path / "var-lib"))
    assert elsewhere.is_dir()


def test_remove_folder_refuses_a_private_folder_that_is_a_link(tmp_path):
    real = tmp_path / "real-private"
    (real / "anna").mkdir(parents=True)
    (tmp_path / "var-lib").mkdir()
    os.symlink(real, tmp_path / "var-lib" / "private")
    with pytest.raises(ValueError, match="not a plain folder"):
        usernames.remove_folder("anna", state_root=str(tmp_path / "var-lib"))
    assert (real / "anna").is_dir()


def test_a_link_elsewhere_is_never_removed(tmp_path):
    os.symlink("/etc", tmp_path / "anna")
    with pytest.raises(ValueError):
        usernames.remove_folder("anna", state_root=str(tmp_path))
    assert os.path.islink(tmp_path / "anna")


# --- The preflight's check of the admins named in the inventory -----------------


def admin_problems(*admins, min_length=8):
    return usernames.admin_problems(list(admins), min_length, passwords.MAX_BYTES)


def test_good_admins_have_no_problem():
    assert (
        admin_problems(
            {"username": "admin", "password": "x" * 8},
            {"username": "helper", "password": "é" * (passwords.MAX_BYTES // 2)},
        )
        == []
    )


@pytest.mark.parametrize(
    "admin, says",
    [
        ({"username": "Teacher Name", "password": "long enough"}, "jupyterhub_admin_username"),
        ({"username": "a" * 33, "password": "long enough"}, "too long"),
        ({"password": "long enough"}, "'(no username)'"),
        ({"username": 7, "password": "long enough"}, "needs a username"),
        ({"username": "helper", "password": "short7!"}, "'helper' needs a password of at least 8 characters"),
        (
            {"username": "helper", "password": "é" * (passwords.MAX_BYTES // 2 + 1)},
            f"at most {passwords.MAX_BYTES} bytes",
        ),
        ({"username": "helper"}, "needs a password"),
        ("not a dict", "(no username)"),
    ],
)
def test_a_bad_admin_account_is_named_and_said_why(admin, says):
    found = admin_problems({"username": "admin", "password": "long enough"}, admin)
    assert len(found) >= 1 and all(says in sentence for sentence in found[:1]), found
    for sentence in found:
        assert "long enough" not in sentence and "short7!" not in sentence and "é" * 8 not in sentence


def run_preflight_check(admins, min_length=8):
    """As the playbook runs it on the machine that runs Ansible, which has no bcrypt."""
    block_bcrypt = (
        "import runpy, sys; sys.modules['bcrypt'] = None; "
        "runpy.run_module('classbox.usernames', run_name='__main__', alter_sys=True)"
    )
    return subprocess.run(
        [sys.executable, "-c", block_bcrypt, "--admins", "--min-password-length", str(min_length)],
        input=json.dumps(admins),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_the_preflight_check_needs_no_bcrypt_and_prints_no_password():
    good = run_preflight_check([{"username": "admin", "password": "a-good-password"}])
    assert (good.returncode, good.stdout, good.stderr) == (0, "", "")
    bad = run_preflight_check(
        [{"username": "admin", "password": "a-good-password"}, {"username": "Helper", "password": "secret7"}]
    )
    assert bad.returncode == 1 and bad.stderr == ""
    assert bad.stdout.count("The admin account 'Helper'") == 2 and "secret7" not in bad.stdout

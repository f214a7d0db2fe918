import os

import pytest

from classbox_hub import usernames


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

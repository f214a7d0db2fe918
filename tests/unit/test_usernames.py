import os

import pytest

from classbox import usernames


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

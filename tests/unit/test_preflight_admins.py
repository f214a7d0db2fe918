"""The preflight's question to the hub's database: which admins named in the
inventory are students on the box already (they must not be promoted)."""

import shutil
import subprocess
from pathlib import Path

import pytest
from jupyterhub import orm
from nativeauthenticator.orm import UserInfo

from classbox import preflight

SCRIPT = Path(preflight.__file__)


@pytest.fixture
def box_db(db, db_url):
    """A hub database as a box has it: the admin seeded and made admin, two students, and
    a user the teacher made on the Admin page."""
    UserInfo.__table__.create(db.bind, checkfirst=True)
    for name, admin in [("admin", True), ("anna", False), ("made-by-teacher", False), ("promoted", True)]:
        db.add(orm.User(name=name, admin=admin))
    for name in ["admin", "anna", "bob", "promoted"]:  # bob waits for approval: no hub user yet
        db.add(UserInfo(username=name, password=b"x", is_authorized=name != "bob"))
    db.commit()
    return db_url.removeprefix("sqlite:///")


def test_students_among_the_admins_are_found(box_db):
    names = ["admin", "anna", "bob", "made-by-teacher", "promoted", "newcomer"]
    assert preflight.students_among(box_db, names) == ["anna", "bob", "made-by-teacher"]


def test_a_box_with_no_hub_yet_has_no_students(tmp_path):
    assert preflight.students_among(str(tmp_path / "jupyterhub.sqlite"), ["anna"]) == []
    assert not (tmp_path / "jupyterhub.sqlite").exists()


def test_a_hub_database_without_nativeauthenticators_table(db, db_url):
    db.add(orm.User(name="anna"))
    db.commit()
    assert preflight.students_among(db_url.removeprefix("sqlite:///"), ["anna", "admin"]) == ["anna"]


def test_the_database_is_only_read(box_db):
    before = Path(box_db).read_bytes()
    preflight.students_among(box_db, ["anna"])
    assert Path(box_db).read_bytes() == before


@pytest.mark.skipif(not shutil.which("python3", path="/usr/bin"), reason="no system python3")
def test_it_runs_with_the_boxs_own_python_and_no_venv(box_db, tmp_path):
    """The playbook runs it before the hub's venv exists: standard library only."""
    run = subprocess.run(
        ["/usr/bin/python3", "-I", str(SCRIPT), "--db", box_db, "admin", "anna"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "anna\n", "")


def test_an_unreadable_database_exits_2_with_a_sentence(tmp_path, capsys):
    bad = tmp_path / "jupyterhub.sqlite"
    bad.write_text("not a database")
    assert preflight.main(["--db", str(bad), "anna"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_main_prints_one_name_a_line(box_db, capsys):
    assert preflight.main(["--db", box_db, "anna", "admin", "bob"]) == 0
    assert capsys.readouterr().out == "anna\nbob\n"

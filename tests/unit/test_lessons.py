"""classbox.lessons: pack on the teacher's computer, publish and sync on the box."""

import io
import json
import shutil
import subprocess
import tarfile
import urllib.parse

import pytest

from classbox import lessons


def notebook(title):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [f"# {title}\n", "text"]}]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def teacher(tmp_path):
    folder = tmp_path / "lessons"
    (folder / "week1").mkdir(parents=True)
    (folder / "week1" / "planets.ipynb").write_text(notebook("Week 1: The planets"))
    (folder / "week1" / "data.csv").write_text("a,b\n")
    (folder / "untitled.ipynb").write_text("{}")
    for hidden in (".git", "week1/.ipynb_checkpoints"):
        (folder / hidden).mkdir()
        (folder / hidden / "junk").write_text("x")
    return folder


def test_a_folder_packs_to_the_same_bytes_whatever_its_times_and_leaves_hidden_files_out(teacher, tmp_path):
    first = lessons.pack(teacher, tmp_path / "one.tar")
    (teacher / "week1" / "data.csv").touch()
    second = lessons.pack(teacher, tmp_path / "two.tar")
    assert first["sha256"] == second["sha256"]
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as tar:
        assert tar.getnames() == ["untitled.ipynb", "week1/data.csv", "week1/planets.ipynb"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_publish_commits_only_a_change_and_lists_one_link_per_notebook(teacher, tmp_path):
    packed = lessons.pack(teacher, tmp_path / "lessons.tar")
    repo, index = tmp_path / "lessons.git", tmp_path / "lessons.json"
    assert lessons.publish(tmp_path / "lessons.tar", repo, index)["changed"]
    assert not lessons.publish(tmp_path / "lessons.tar", repo, index)["changed"]
    listed = json.loads(index.read_text())["lessons"]
    assert [(lesson["title"], lesson["folder"]) for lesson in listed] == [
        ("untitled", ""),
        ("Week 1: The planets", "week1"),
    ]
    query = urllib.parse.parse_qs(listed[1]["link"].split("?", 1)[1])
    assert listed[1]["link"].startswith("hub/user-redirect/git-pull?")
    assert query == {
        "repo": [f"file://{repo}"],
        "branch": ["main"],
        "targetpath": ["lessons"],
        "urlpath": ["lab/tree/lessons/week1/planets.ipynb"],
    }
    (teacher / "week1" / "planets.ipynb").write_text(notebook("Week 1, again"))
    assert packed["sha256"] != lessons.pack(teacher, tmp_path / "lessons.tar")["sha256"]
    assert lessons.publish(tmp_path / "lessons.tar", repo, index)["changed"]
    log = subprocess.run(["git", f"--git-dir={repo}", "log", "--format=%s"], capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 2
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    assert "Week 1, again" in (clone / "week1" / "planets.ipynb").read_text()
    assert (repo / "info" / "refs").is_file(), "git's dumb HTTP protocol needs info/refs"


def test_sync_writes_in_place_and_removes_what_the_teacher_removed(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "a.csv").write_text("1\n")
    lessons.pack(data, tmp_path / "shared.tar")
    target = tmp_path / "shared"
    assert lessons.sync(tmp_path / "shared.tar", target)["written"] == ["sub/a.csv"]
    inode = target.stat().st_ino
    (target / "left-over.txt").write_text("old")
    (target / "old").mkdir()
    result = lessons.sync(tmp_path / "shared.tar", target)
    assert result == {"changed": True, "written": [], "removed": ["left-over.txt", "old"]}
    assert not lessons.sync(tmp_path / "shared.tar", target)["changed"]
    assert target.stat().st_ino == inode, "the folder students' servers mount was replaced"


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd"])
def test_an_archive_member_outside_its_folder_is_refused(tmp_path, name):
    archive = tmp_path / "bad.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo(name)
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(lessons.LessonsError):
        lessons.sync(archive, tmp_path / "shared")
    assert not (tmp_path / "escape.txt").exists()

"""classbox.course: the course's lock on the controller, and the environments on the box."""

import json

import pytest

from classbox import course
from classbox.wheels import releases

RELEASES = releases()


def test_the_teachers_lines_get_ipykernel_unless_they_name_it():
    assert course.requirement_lines(["numpy", " pandas==3.1.1 "]) == ["numpy", "pandas==3.1.1", "ipykernel"]
    assert course.requirement_lines(["ipykernel==7.4.0", "numpy"]) == ["ipykernel==7.4.0", "numpy"]


@pytest.mark.parametrize(
    "line, says",
    [
        ("numpy>=", "course_packages: 'numpy>=' is not a requirement pip understands"),
        ("--index-url=http://evil", "course_packages: '--index-url=http://evil' is not a package from PyPI"),
        ("git+https://example.org/x.git", "is not a package from PyPI"),
        ("mypkg @ https://example.org/x.whl", "is not a package from PyPI"),
        ("./wheels/x.whl", "is not a package from PyPI"),
    ],
)
def test_a_line_that_is_not_a_package_from_pypi_is_refused_with_a_sentence(line, says):
    with pytest.raises(course.CourseError) as refused:
        course.requirement_lines(["numpy", line])
    assert says in str(refused.value) and str(refused.value).startswith("course_packages: ")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "uv_says, sentence",
    [
        (
            "error: No solution found when resolving dependencies\n  cause: Because all versions of pyqt5-qt5 have "
            "no wheels with a matching platform tag (e.g., `manylinux_2_40_aarch64`) and you require pyqt5-qt5, ...",
            "course_packages: pyqt5-qt5 has no wheel for arm64 (Python 3.13 of Debian 13)",
        ),
        (
            "  cause: Because docopt==0.6.2 has no usable wheels and you require docopt, we can conclude ...",
            "course_packages: docopt has no wheel for arm64 (Python 3.13 of Debian 13)",
        ),
        (
            "  cause: Because numpyy was not found in the package registry and you require numpyy, ...",
            "course_packages: numpyy is not on PyPI (check its spelling).",
        ),
    ],
)
def test_uvs_refusal_becomes_one_sentence_naming_the_package_and_the_architecture(uv_says, sentence):
    said = course.reason(uv_says, "arm64", dict(RELEASES["trixie"]))
    assert said.startswith(sentence) and "\n" not in said


def test_an_unchanged_list_keeps_its_locks_without_asking_pypi(tmp_path):
    lines = course.requirement_lines(["numpy"])
    digest = course.input_digest(lines, list(RELEASES.values()))
    for name in ("requirements.txt", "requirements-python3.11.txt", "requirements-python3.13.txt"):
        (tmp_path / name).write_text(f"# input sha256: {digest}\nnumpy==2.4.6 \\\n    --hash=sha256:{'0' * 64}\n")
    result = course.lock(tmp_path, RELEASES, ["numpy"], uv="/nonexistent/uv")  # uv would fail if called
    assert result["changed"] is False
    assert result["anywhere"] == str(tmp_path / "requirements.txt")
    assert sorted(result["locks"]) == ["3.11", "3.13"]


@pytest.mark.parametrize("missing", ["requirements.txt", "requirements-python3.13.txt"])
def test_a_changed_list_or_a_missing_lock_asks_uv_again(tmp_path, missing):
    lines = course.requirement_lines(["numpy"])
    digest = course.input_digest(lines, list(RELEASES.values()))
    for name in ("requirements.txt", "requirements-python3.11.txt", "requirements-python3.13.txt"):
        (tmp_path / name).write_text(f"# input sha256: {digest}\n")
    with pytest.raises(FileNotFoundError):  # it runs uv, which is not there
        course.lock(tmp_path, RELEASES, ["numpy", "pandas"], uv="/nonexistent/uv")
    (tmp_path / missing).unlink()
    with pytest.raises(FileNotFoundError):
        course.lock(tmp_path, RELEASES, ["numpy"], uv="/nonexistent/uv")


def fake_process(proc, pid, argv):
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cmdline").write_bytes(b"\0".join(part.encode() for part in argv) + b"\0")


def test_prune_removes_only_the_environments_no_process_runs(tmp_path):
    root, proc = tmp_path / "course", tmp_path / "proc"
    new, running, idle = "a" * 16, "b" * 16, "c" * 16
    for name in (new, running, idle, "jupyter"):
        (root / name / "bin").mkdir(parents=True)
    (root / "current").symlink_to(new)
    fake_process(proc, 41, [str(root / running / "bin" / "python"), "-m", "ipykernel_launcher"])
    fake_process(proc, 42, ["/usr/bin/python3", str(root / idle / "bin" / "python")])  # not its program
    result = course.prune(root, keep=new, proc=proc)
    assert result == {"removed": [idle], "in_use": [running]}
    assert sorted(p.name for p in root.iterdir()) == sorted(["current", "jupyter", new, running])
    assert (root / "current").resolve() == root / new


def test_prune_prints_what_it_removed(tmp_path, capsys):
    (tmp_path / ("a" * 16)).mkdir()
    (tmp_path / ("b" * 16)).mkdir()
    assert course.main(["prune", "--root", str(tmp_path), "--keep", "a" * 16]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == ["b" * 16]

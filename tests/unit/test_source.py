"""classbox.source: the package's source for the box, the same bytes for the same files."""

import tarfile
import time

from classbox import source


def test_the_archive_is_the_same_bytes_each_time_and_holds_no_cache(tmp_path):
    root = tmp_path / "repo"
    (root / "classbox" / "templates").mkdir(parents=True)
    (root / "classbox" / "__pycache__").mkdir()
    (root / "pyproject.toml").write_text("[project]\n")
    (root / "classbox" / "__init__.py").write_text("")
    (root / "classbox" / "templates" / "page.html").write_text("<p>")
    (root / "classbox" / "__pycache__" / "__init__.cpython-313.pyc").write_bytes(b"cache")
    # JupyterLab's Share a copy: as built, not its source nor what npm installed to build it
    extension = root / "classbox" / "labextension"
    (extension / "built" / "static").mkdir(parents=True)
    (extension / "node_modules" / "x").mkdir(parents=True)
    (extension / "index.js").write_text("source")
    (extension / "node_modules" / "x" / "index.js").write_text("npm")
    (extension / "built" / "package.json").write_text("{}")
    (extension / "built" / "static" / "remoteEntry.1.js").write_text("built")
    first, second = tmp_path / "a.tar", tmp_path / "b.tar"
    source.write(first, root)
    (root / "classbox" / "__init__.py").touch()  # a new mtime: the same content
    source.write(second, root)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as archive:
        assert archive.getnames() == [
            "classbox",
            "classbox/labextension",
            "classbox/labextension/built",
            "classbox/labextension/built/static",
            "classbox/templates",
            "classbox/__init__.py",
            "classbox/labextension/built/package.json",
            "classbox/labextension/built/static/remoteEntry.1.js",
            "classbox/templates/page.html",
            "pyproject.toml",
        ]
        assert {(m.uid, m.uname) for m in archive.getmembers()} == {(0, "root")}
        # pip zips the unpacked files into a wheel: ZIP has no date before 1980
        assert {time.gmtime(m.mtime).tm_year for m in archive.getmembers()} == {2020}


def test_a_file_changed_to_the_same_size_gets_another_time(tmp_path):
    """nginx's ETag is the file's time and size: the extension's style.js changes
    by a hash of the same length, and the browsers must see it changed."""
    root = tmp_path / "repo"
    (root / "classbox" / "labextension" / "built" / "static").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\n")
    style = root / "classbox" / "labextension" / "built" / "static" / "style.js"
    times = []
    for chunk in ("aaaa1111", "bbbb2222"):
        style.write_text(f"import './{chunk}.css';")
        source.write(tmp_path / "out.tar", root)
        with tarfile.open(tmp_path / "out.tar") as archive:
            times.append(archive.getmember("classbox/labextension/built/static/style.js").mtime)
    assert times[0] != times[1]

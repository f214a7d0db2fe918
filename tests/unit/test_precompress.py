import gzip
import os

from classbox import precompress

SCRIPT = b"console.log('JupyterLab');\n" * 100


def test_a_gzip_copy_is_made_beside_each_text_file_once(tmp_path, capsys):
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "main.0123abcd.js").write_bytes(SCRIPT)
    (tmp_path / "lab" / "tiny.css").write_bytes(b"a{}")
    (tmp_path / "lab" / "logo.png").write_bytes(b"\x89PNG" * 500)
    assert precompress.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("changed: gzip copies written 1, removed 0, up to date 0")
    copy = tmp_path / "lab" / "main.0123abcd.js.gz"
    assert gzip.decompress(copy.read_bytes()) == SCRIPT
    assert copy.stat().st_mtime_ns == (tmp_path / "lab" / "main.0123abcd.js").stat().st_mtime_ns
    assert not (tmp_path / "lab" / "tiny.css.gz").exists(), "too small to be worth it"
    assert not (tmp_path / "lab" / "logo.png.gz").exists(), "a picture is compressed already"
    assert precompress.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("unchanged: gzip copies written 0, removed 0, up to date 1")


def test_a_changed_file_gets_a_new_copy_and_a_removed_file_loses_its_copy(tmp_path, capsys):
    script = tmp_path / "remoteEntry.js"
    script.write_bytes(SCRIPT)
    gone = tmp_path / "old.css"
    gone.write_bytes(b"body{}" * 400)
    precompress.main([str(tmp_path)])
    gone.unlink()
    script.write_bytes(SCRIPT * 2)
    os.utime(script, ns=(0, script.stat().st_mtime_ns + 1_000_000_000))
    capsys.readouterr()
    assert precompress.main(["--check", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("changed: gzip copies to write 1, removed 1")
    assert gzip.decompress((tmp_path / "remoteEntry.js.gz").read_bytes()) == SCRIPT, "check mode wrote nothing"
    precompress.main([str(tmp_path)])
    assert gzip.decompress((tmp_path / "remoteEntry.js.gz").read_bytes()) == SCRIPT * 2
    assert not (tmp_path / "old.css.gz").exists()


def test_a_linked_extension_is_followed_and_a_missing_folder_is_no_error(tmp_path, capsys):
    built = tmp_path / "package" / "built" / "static"
    built.mkdir(parents=True)
    (built / "remoteEntry.js").write_bytes(SCRIPT)
    extensions = tmp_path / "labextensions" / "@classbox"
    extensions.mkdir(parents=True)
    (extensions / "share").symlink_to(built.parent)
    assert precompress.main([str(tmp_path / "labextensions"), str(tmp_path / "not-yet")]) == 0
    assert (built / "remoteEntry.js.gz").exists()


def test_a_copy_goes_when_its_file_becomes_too_small_or_a_link(tmp_path, capsys):
    shrinking = tmp_path / "index.css"
    shrinking.write_bytes(b"body{}" * 400)
    linked = tmp_path / "plugin.js"
    linked.write_bytes(SCRIPT)
    precompress.main([str(tmp_path)])
    assert (tmp_path / "index.css.gz").exists() and (tmp_path / "plugin.js.gz").exists()
    shrinking.write_bytes(b"a{}")
    linked.unlink()
    linked.symlink_to(shrinking)
    capsys.readouterr()
    precompress.main([str(tmp_path)])
    assert capsys.readouterr().out.startswith("changed: gzip copies written 0, removed 2")
    assert not (tmp_path / "index.css.gz").exists(), "nginx would send the old, larger file"
    assert not (tmp_path / "plugin.js.gz").exists()


def test_a_copy_keeps_its_files_mode_and_a_looping_link_is_walked_once(tmp_path):
    private = tmp_path / "private.js"
    private.write_bytes(SCRIPT)
    private.chmod(0o600)
    (tmp_path / "again").symlink_to(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "back").symlink_to(tmp_path)
    assert precompress.main([str(tmp_path)]) == 0
    assert (tmp_path / "private.js.gz").stat().st_mode & 0o777 == 0o600


def test_a_packages_own_gzip_file_is_left_alone(tmp_path):
    (tmp_path / "data.tar.gz").write_bytes(b"not ours")
    precompress.main([str(tmp_path)])
    assert (tmp_path / "data.tar.gz").read_bytes() == b"not ours"

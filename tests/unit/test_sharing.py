"""classbox.sharing (the hub's links) and the copy a reader's server writes (classbox.share_server)."""

import concurrent.futures
import json
import os
import re
from pathlib import Path

import pytest

from classbox import share_server, sharing

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0


def notebook(*cells):
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


class Store(sharing.Store):
    def make(self, owner, name, data, now=None):
        """As the hub does: the body into an upload file, then make()."""
        with self.upload() as upload:
            upload.write(data)
        return super().make(owner, name, upload.name, now=now)


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "shares"), max_bytes=1000, days=7, per_ten_minutes=3)


def files(store):
    return sorted(path.name for path in store.folder.iterdir() if not path.name.startswith("shares.sqlite"))


def test_a_link_gives_the_snapshot_to_any_reader_and_counts_each_reader_once(store):
    share = store.make("anna", "planets.ipynb", b"{}", now=1000.0)
    assert sharing.CODE.fullmatch(share.code)
    assert (share.owner, share.name, share.size, share.expires) == ("anna", "planets.ipynb", 2, 1000.0 + 7 * 86400)
    for reader in ("ben", "ben", "carl"):
        got, stream = store.copy_for(share.code, reader, now=2000.0)
        with stream:
            assert stream.read() == b"{}"
    assert store.get(share.code).copies == 2
    assert store.get(share.code.upper()) == store.get(share.code), "a code written in capitals is the same link"
    assert [found.code for found in store.links("anna")] == [share.code]
    assert store.links("ben") == []


def test_the_store_folder_is_for_its_owner_only(store):
    assert store.folder.stat().st_mode & 0o777 == 0o700


def test_a_withdrawn_link_says_so_and_its_snapshot_is_gone(store):
    share = store.make("anna", "notes.txt", b"hello", now=1000.0)
    with pytest.raises(sharing.Refused, match="no link"):
        store.withdraw(share.code, by="ben", is_teacher=False)
    store.withdraw(share.code, by="anna", is_teacher=False, now=1100.0)
    assert not store.data_path(share.code).exists() and not store.html_path(share.code).exists()
    with pytest.raises(sharing.Refused) as refused:
        store.copy_for(share.code, "ben", now=1200.0)
    assert str(refused.value) == "This link was withdrawn by its owner." and refused.value.status == 410


def test_the_teacher_withdraws_any_link(store):
    share = store.make("anna", "notes.txt", b"hello", now=1000.0)
    assert store.withdraw(share.code, by="teacher", is_teacher=True).state(1001.0) == "withdrawn"


def test_an_expired_link_says_so_and_its_snapshot_is_removed_at_the_next_clean_up(store):
    share = store.make("anna", "notes.txt", b"hello", now=1000.0)
    later = 1000.0 + 7 * 86400
    with pytest.raises(sharing.Refused, match="expired: links last 7 days. Ask anna for a new one"):
        store.copy_for(share.code, "ben", now=later)
    store.forget_old(now=later)
    assert not store.data_path(share.code).exists()
    assert store.get(share.code).state(later) == "expired", "the link still says what happened to it"
    store.forget_old(now=later + sharing.FORGET_AFTER + 1)
    assert store.get(share.code) is None


def test_an_unknown_code_is_named(store):
    with pytest.raises(sharing.Refused, match="There is no link abc-def on this box") as refused:
        store.copy_for("abc-def", "ben")
    assert refused.value.status == 404
    assert store.get("../../etc/passwd") is None


def test_a_file_too_big_is_refused_with_its_size_and_the_limit(store):
    too_big = r"big.ipynb is 1.0 KB: a shared copy may be at most 1.0 KB"
    with pytest.raises(sharing.Refused, match=too_big) as refused:
        store.make("anna", "big.ipynb", b"x" * 1001)
    assert refused.value.status == 413
    assert files(store) == [], "nothing is left of a refused share"


def test_a_student_cannot_make_links_faster_than_the_rate(store):
    for minute in range(3):
        store.make("anna", "a.txt", b"a", now=1000.0 + 60 * minute)
    with pytest.raises(sharing.Refused, match="3 links in the last ten minutes") as refused:
        store.make("anna", "a.txt", b"a", now=1000.0 + 180)
    assert refused.value.status == 429
    store.make("ben", "a.txt", b"a", now=1000.0 + 180)  # the others are not held back
    store.make("anna", "a.txt", b"a", now=1000.0 + sharing.RATE_WINDOW + 1)


def test_links_made_at_the_same_moment_count_against_the_rate(store):
    """The hub makes links in threads: ten at once still get no more than the rate."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        tries = [pool.submit(store.make, "anna", "a.txt", b"a") for _ in range(10)]
    made = [attempt for attempt in tries if attempt.exception() is None]
    assert len(made) == 3
    assert all(isinstance(attempt.exception(), sharing.Refused) for attempt in tries if attempt not in made)
    assert len(files(store)) == 6, "a refused link leaves no file behind (3 links: data and view each)"


@pytest.mark.parametrize("name", ["", ".bashrc", "a/b.ipynb", "..", "tab\there", "x" * 201])
def test_names_that_cannot_be_a_plain_file_name_are_refused(store, name):
    with pytest.raises(sharing.Refused):
        store.make("anna", name, b"x")


def test_the_view_escapes_everything_from_the_file():
    page = sharing.render(
        "attack.ipynb",
        notebook(
            {
                "cell_type": "markdown",
                "source": ["# Title\n", "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"],
            },
            {
                "cell_type": "code",
                "execution_count": 1,
                "source": "print('<b>')",
                "outputs": [
                    {"output_type": "stream", "text": ["<script>x</script>"]},
                    {
                        "output_type": "display_data",
                        "data": {"text/html": "<script>steal()</script>", "text/plain": "<DataFrame>"},
                    },
                    {"output_type": "display_data", "data": {"image/png": 'not base64 " onerror=x'}},
                ],
            },
        ),
    )
    assert "<h1>Title</h1>" in page
    assert "<script" not in page and "<img src=x" not in page and "steal()" not in page and "onerror=x" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "&lt;DataFrame&gt;" in page
    assert "print(&#x27;&lt;b&gt;&#x27;)" in page


def test_the_view_shows_pictures_from_outputs_as_data_only():
    png = "iVBORw0KGgo="
    output = {"output_type": "display_data", "data": {"image/png": png}}
    page = sharing.render("plot.ipynb", notebook({"cell_type": "code", "source": "", "outputs": [output]}))
    assert f'src="data:image/png;base64,{png}"' in page
    assert "default-src 'none'" in sharing.VIEW_POLICY and "sandbox" in sharing.VIEW_POLICY


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("broken.ipynb", b"{not json", "not a notebook Jupyter can read"),
        ("deep.ipynb", b"[" * 100000, "not a notebook Jupyter can read"),
        ("notes.txt", "<b>hi</b> é".encode(), "&lt;b&gt;hi&lt;/b&gt; é"),
        ("data.bin", b"\x00\xff\x00", "cannot be shown here"),
    ],
)
def test_the_view_of_other_files(name, data, expected):
    assert expected in sharing.render(name, data)


def test_a_copy_never_replaces_a_file_of_the_reader(tmp_path):
    folder = tmp_path / share_server.FOLDER
    assert share_server.write_copy(str(tmp_path), "anna", "planets.ipynb", b"one") == "anna-planets.ipynb"
    assert share_server.write_copy(str(tmp_path), "anna", "planets.ipynb", b"two") == "anna-planets-2.ipynb"
    (folder / "anna-planets-3.ipynb").symlink_to("/etc/passwd")
    assert share_server.write_copy(str(tmp_path), "anna", "planets.ipynb", b"four") == "anna-planets-4.ipynb"
    assert (folder / "anna-planets.ipynb").read_bytes() == b"one"
    assert share_server.write_copy(str(tmp_path), "anna", "README", b"r") == "anna-README"
    assert share_server.write_copy(str(tmp_path), "anna", "README", b"r") == "anna-README-2"


def test_nginx_short_link_takes_the_codes_alphabet():
    template = (ROOT / "roles/web/templates/nginx.conf.j2").read_text()
    pattern = re.search(r'location ~\* "\^\{\{ web_hub_path \}\}s/\((\[[^\]]+\])\{3\}-', template)[1]
    allowed = "".join(chr(c) for c in range(128) if re.fullmatch(pattern, chr(c)))
    assert allowed == sharing.ALPHABET


def test_a_notebook_that_cannot_be_shown_gets_a_sentence_and_a_link(store):
    share = store.make("anna", "odd.ipynb", json.dumps({"cells": 1, "nbformat": 4}).encode())
    assert "This notebook has no cells" in store.html_path(share.code).read_text()
    share = store.make("anna", "odder.ipynb", json.dumps({"cells": [{"cell_type": "code", "outputs": 5}]}).encode())
    assert "<pre></pre>" in store.html_path(share.code).read_text()


def test_a_view_that_would_be_too_long_is_a_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(sharing, "VIEW_BYTES", 100)
    data, view = tmp_path / "x.data", tmp_path / "x.html"
    data.write_bytes(b"&" * 50)  # 250 bytes once escaped
    sharing.render_file("amp.txt", data, view)
    assert "amp.txt is too long to show here. Open a copy to see it." in view.read_text()


def test_the_render_runs_apart_and_a_failure_is_a_sentence(store, tmp_path):
    view = tmp_path / "missing.html"
    sharing.render_apart("gone.ipynb", tmp_path / "no-such.data", view)
    assert "gone.ipynb cannot be shown here" in view.read_text()
    data = tmp_path / "ok.data"
    data.write_bytes(notebook({"cell_type": "markdown", "source": "# Fine"}))
    sharing.render_apart("ok.ipynb", data, view)
    assert "<h1>Fine</h1>" in view.read_text()


def test_a_long_markdown_cell_is_shown_as_its_text():
    """mistune takes seconds and gigabytes on a few MB of emphasis marks."""
    page = sharing.render("long.ipynb", notebook({"cell_type": "markdown", "source": "*a" * 60_000}))
    assert "<pre>*a*a" in page


def test_text_cut_inside_a_character_is_still_shown(monkeypatch):
    monkeypatch.setattr(sharing, "SHOWN_TEXT_BYTES", 5)
    assert "<pre>abcd</pre>" in sharing.render("notes.txt", "abcdé and more".encode())


def test_ones_open_links_hold_at_most_the_quota(tmp_path):
    store = Store(str(tmp_path / "shares"), max_bytes=1000, days=7, per_ten_minutes=100)
    first = store.make("anna", "a.txt", b"a" * 1000, now=1000.0)
    for _ in range(sharing.QUOTA_FACTOR - 1):
        store.make("anna", "a.txt", b"a" * 1000, now=1000.0)
    with pytest.raises(sharing.Refused, match="Your open links hold 5.0 KB; the box keeps at most 5.0 KB"):
        store.make("anna", "a.txt", b"a", now=1000.0)
    store.withdraw(first.code, by="anna", is_teacher=False)
    store.make("anna", "a.txt", b"a", now=1000.0)


def test_sharing_pauses_before_the_disk_is_full(store, monkeypatch):
    real = os.statvfs

    def nearly_full(path):
        answer = real(path)
        return os.statvfs_result((*answer[:4], sharing.DISK_KEPT_FREE // answer.f_frsize, *answer[5:]))

    monkeypatch.setattr(sharing.os, "statvfs", nearly_full)
    with pytest.raises(sharing.Refused, match="disk is nearly full") as refused:
        store.make("anna", "a.txt", b"a")
    assert refused.value.status == 507 and files(store) == []


def test_guessing_codes_is_slowed_down(store):
    share = store.make("anna", "a.txt", b"a", now=1000.0)
    for _ in range(sharing.WRONG_CODES):
        with pytest.raises(sharing.Refused, match="no link"):
            store.look_up("abc-def", "ben", now=1000.0)
    with pytest.raises(sharing.Refused, match="codes that lead nowhere") as refused:
        store.look_up(share.code, "ben", now=1000.0)
    assert refused.value.status == 429
    assert store.look_up(share.code, "carl", now=1000.0) == share, "the others are not held back"
    assert store.look_up(share.code, "ben", now=1000.0 + sharing.RATE_WINDOW + 1) == share


def test_files_of_no_open_link_are_removed_when_the_hub_starts(store, tmp_path):
    share = store.make("anna", "a.txt", b"a")
    (store.folder / ".writing-abc").write_bytes(b"half")
    (store.folder / "zzz-zzz.data").write_bytes(b"stray")
    Store(str(store.folder), max_bytes=1000, days=7, per_ten_minutes=3)
    assert files(store) == sorted([f"{share.code}.data", f"{share.code}.html"])

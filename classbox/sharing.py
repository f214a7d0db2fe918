"""Share a copy: a snapshot of one file that anyone logged in on the box can read by its link.

A student's server (classbox.share_server) sends the file as it is at that
moment; the hub keeps it in its own state folder, under a short code such as
`k7p-m2x`, and answers `/jupyterhub/s/<code>`: the file read-only, and a
button that copies it into the reader's own folder. The sender's folder is
never read by the hub, and the link reveals nothing but that snapshot.

On disk, in the store's folder (root only):
- shares.sqlite: one row per link (owner, file name, size, made, expires,
  withdrawn), and one row per person who opened a copy;
- <code>.data: the snapshot; <code>.html: the snapshot rendered once, when
  the link is made, with every piece of the file escaped (no script, no
  address outside the page). A withdrawn or expired link's files are removed;
  its row stays, so that the link can say what happened to it.
"""

import base64
import binascii
import codecs
import html
import io
import json
import os
import re
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .disk import human
from .lessons import WRITING, replace_file

# Letters and digits that cannot be mistaken for each other when read out or
# written on a board (no 0/o, 1/l/i); a code written in capitals works too.
# nginx's short link (roles/web/templates/nginx.conf.j2) names the same characters.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE = re.compile(f"[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}")
RATE_WINDOW = 600  # seconds: links per student are counted over ten minutes
# How long a withdrawn or expired link still says what happened to it.
FORGET_AFTER = 90 * 86400
SHOWN_TEXT_BYTES = 1 << 20  # a text file longer than this is shown cut
WITHDRAWN = "This link was withdrawn by its owner."
QUOTA_FACTOR = 5  # one person's open links hold at most this many times the largest file
DISK_KEPT_FREE = 200_000_000  # bytes: sharing pauses before the disk is full
WRONG_CODES = 30  # codes that lead nowhere, per person in ten minutes: then wait (guessing is slow)
LISTED = 300  # the lists show the most recent links


class Refused(Exception):
    """A share or a copy that cannot be made; str() is the sentence to show, status the HTTP status."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Share:
    code: str
    owner: str
    name: str
    size: int
    made: float
    expires: float
    withdrawn: float | None
    copies: int = 0

    def state(self, now: float) -> str:
        if self.withdrawn is not None:
            return "withdrawn"
        return "expired" if now >= self.expires else "open"


def new_code() -> str:
    """Like k7p-m2x: 31^6, about 887 million codes."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(3)) for _ in range(2))


def name_problem(name: str) -> str | None:
    """Why a file name cannot be shared under that name (it becomes part of the reader's file name), or None."""
    if not name or len(name.encode()) > 200:
        return "The file needs a name of at most 200 bytes."
    if name.startswith(".") or "/" in name or "\\" in name or not name.isprintable():
        return f"'{name}' cannot be shared: give it a plain name (no leading dot, no slash)."
    return None


def copy_name(owner: str, name: str, taken) -> str:
    """The reader's name for a copy: <owner>-<name>, then <owner>-<name stem>-2<suffix>, ... never one that is taken."""
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        stem, dot, suffix = name, "", ""
    candidate = f"{owner}-{name}"
    number = 1
    while taken(candidate):
        number += 1
        candidate = f"{owner}-{stem}-{number}{dot}{suffix}"
    return candidate


class Store:
    """The hub's links. One process (the hub) keeps it. make() copies a file and
    waits for its rendering (in a child process): call it in a thread."""

    def __init__(self, folder: str, max_bytes: int, days: float, per_ten_minutes: int):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.days = days
        self.per_ten_minutes = per_ten_minutes
        self.quota = QUOTA_FACTOR * max_bytes
        self.wrong_codes: dict[str, list[float]] = {}
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # make() runs in a thread beside the hub's event loop: one query at a time.
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.folder / "shares.sqlite", check_same_thread=False, isolation_level=None)
        self.db.executescript(
            """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS shares (
                code TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,
                made REAL NOT NULL, expires REAL NOT NULL, withdrawn REAL,
                removed INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS copies (
                code TEXT NOT NULL, reader TEXT NOT NULL, PRIMARY KEY (code, reader));
            CREATE INDEX IF NOT EXISTS shares_by_owner ON shares (owner, made);
            CREATE INDEX IF NOT EXISTS shares_to_remove ON shares (removed, expires);
            """
        )
        self.remove_strays()

    def _sql(self, query: str, args: tuple = ()) -> list:
        with self.lock:
            return self.db.execute(query, args).fetchall()

    # --- the files of a link ------------------------------------------------

    def data_path(self, code: str) -> Path:
        return self.folder / f"{code}.data"

    def html_path(self, code: str) -> Path:
        return self.folder / f"{code}.html"

    def upload(self):
        """A new file in the store's folder for a snapshot on its way in (make() takes it, or remove it)."""
        return tempfile.NamedTemporaryFile(dir=self.folder, prefix=WRITING, delete=False)  # noqa: SIM115

    def _remove_files(self, code: str) -> None:
        for path in (self.data_path(code), self.html_path(code)):
            path.unlink(missing_ok=True)

    def remove_strays(self) -> None:
        """Files that belong to no open link: a hub stopped halfway through a share, say."""
        kept = {code for (code,) in self._sql("SELECT code FROM shares WHERE removed = 0")}
        for path in self.folder.iterdir():
            if path.name.startswith(WRITING) or (path.suffix in (".data", ".html") and path.stem not in kept):
                path.unlink(missing_ok=True)

    # --- links ----------------------------------------------------------------

    def _select(self, where: str = "", args: tuple = (), limit: int = -1) -> list[Share]:
        query = (
            "SELECT s.code, s.owner, s.name, s.size, s.made, s.expires, s.withdrawn,"
            " (SELECT COUNT(*) FROM copies c WHERE c.code = s.code) FROM shares s "
            f"{where} ORDER BY s.made DESC LIMIT ?"
        )
        return [Share(*row) for row in self._sql(query, (*args, limit))]

    def get(self, code: str) -> Share | None:
        code = code.lower()
        if not CODE.fullmatch(code):
            return None
        found = self._select("WHERE s.code = ?", (code,))
        return found[0] if found else None

    def links(self, owner: str | None = None, limit: int = LISTED) -> list[Share]:
        """The most recent links: everyone's (the teacher's list), or one person's."""
        if owner is None:
            return self._select(limit=limit)
        return self._select("WHERE s.owner = ?", (owner,), limit=limit)

    def make(self, owner: str, name: str, upload: str, now: float | None = None) -> Share:
        """A new link to the snapshot in the file `upload` (from upload(), which this takes or removes).

        Refused, with the sentence to show, when it cannot be made.
        """
        now = time.time() if now is None else now
        code = None
        try:
            size = os.path.getsize(upload)
            self.check(owner, name, size, now)
            self.forget_old(now)
            code = new_code()
            while self.get(code) is not None or self.data_path(code).exists():
                code = new_code()
            os.replace(upload, self.data_path(code))
            render_apart(name, self.data_path(code), self.html_path(code))
            with self.lock:  # the count and the new row at once: two shares at the same moment count as two
                self.check(owner, name, size, now)
                self.db.execute(
                    "INSERT INTO shares (code, owner, name, size, made, expires) VALUES (?, ?, ?, ?, ?, ?)",
                    (code, owner, name, size, now, now + self.days * 86400),
                )
        except BaseException:
            Path(upload).unlink(missing_ok=True)
            if code is not None and self.get(code) is None:
                self._remove_files(code)
            raise
        return self.get(code)

    def check(self, owner: str, name: str, size: int | None, now: float) -> None:
        """Refused when this person may not share this now: the name, the size, the rate, their space, the disk's."""
        problem = name_problem(name) if name is not None else None
        if problem:
            raise Refused(problem)
        if size is not None and size > self.max_bytes:
            raise Refused(too_big(name, size, self.max_bytes), status=413)
        ((recent, held),) = self._sql(
            "SELECT COALESCE(SUM(made > ?), 0), COALESCE(SUM(CASE WHEN removed = 0 THEN size END), 0)"
            " FROM shares WHERE owner = ?",
            (now - RATE_WINDOW, owner),
        )
        if recent >= self.per_ten_minutes:
            raise Refused(
                f"You made {recent} links in the last ten minutes, as many as the box allows. "
                "Wait a few minutes, then share again.",
                status=429,
            )
        if held + (size or 0) > self.quota:
            raise Refused(
                f"Your open links hold {human(held)}; the box keeps at most {human(self.quota)} "
                "of shared copies per person. Withdraw some on Shared links, then share again.",
                status=413,
            )
        disk = os.statvfs(self.folder)
        if disk.f_bavail * disk.f_frsize < 2 * (size or self.max_bytes) + DISK_KEPT_FREE:
            raise Refused("The box's disk is nearly full, so sharing is paused. Tell your teacher.", status=507)

    def open_problem(self, share: Share | None, code: str, now: float | None = None) -> Refused | None:
        """Why this link shows nothing (no such link, withdrawn, expired), or None."""
        now = time.time() if now is None else now
        if share is None:
            named = code if CODE.fullmatch(code.lower()) else "like that"
            return Refused(f"There is no link {named} on this box. Check the code, letter by letter.", status=404)
        state = share.state(now)
        if state == "withdrawn":
            return Refused(WITHDRAWN, status=410)
        if state == "expired":
            return Refused(
                f"This link has expired: links last {days_text(self.days)}. Ask {share.owner} for a new one.",
                status=410,
            )
        return None

    def look_up(self, code: str, reader: str, now: float | None = None) -> Share:
        """The open link of this code; Refused (no such link, withdrawn, expired, or too many wrong codes)."""
        now = time.time() if now is None else now
        wrong = [when for when in self.wrong_codes.get(reader, []) if when > now - RATE_WINDOW]
        self.wrong_codes[reader] = wrong
        if len(wrong) >= WRONG_CODES:
            raise Refused(
                f"{len(wrong)} codes that lead nowhere in ten minutes: wait a few minutes, then check the code.",
                status=429,
            )
        share = self.get(code)
        problem = self.open_problem(share, code, now)
        if share is None:
            wrong.append(now)
        if problem:
            raise problem
        return share

    def copy_for(self, code: str, reader: str, now: float | None = None):
        """The snapshot, open for reading, for a reader who opens a copy (counted once per reader)."""
        share = self.look_up(code, reader, now)
        try:
            stream = open(self.data_path(share.code), "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:  # withdrawn a moment ago
            raise Refused(WITHDRAWN, status=410) from None
        self._sql("INSERT OR IGNORE INTO copies (code, reader) VALUES (?, ?)", (share.code, reader))
        return share, stream

    def withdraw(self, code: str, by: str, is_teacher: bool, now: float | None = None) -> Share:
        """Withdraw a link: its owner's, or any for the teacher. Its snapshot is removed at once."""
        share = self.get(code)
        if share is None or not (is_teacher or share.owner == by):
            raise Refused(f"There is no link {code} of yours.", status=404)
        when = time.time() if now is None else now
        self._sql("UPDATE shares SET withdrawn = COALESCE(withdrawn, ?) WHERE code = ?", (when, share.code))
        self._remove_files(share.code)
        self._sql("UPDATE shares SET removed = 1 WHERE code = ?", (share.code,))
        return self.get(share.code)

    def forget_old(self, now: float | None = None) -> None:
        """Remove the snapshots of links that expired since the last time; forget links closed long ago."""
        now = time.time() if now is None else now
        for (code,) in self._sql("SELECT code FROM shares WHERE removed = 0 AND expires <= ?", (now,)):
            self._remove_files(code)
            self._sql("UPDATE shares SET removed = 1 WHERE code = ?", (code,))
        old = now - FORGET_AFTER
        self._sql(
            "DELETE FROM copies WHERE code IN (SELECT code FROM shares WHERE expires < ? OR withdrawn < ?)", (old, old)
        )
        self._sql("DELETE FROM shares WHERE expires < ? OR withdrawn < ?", (old, old))


def too_big(name: str, size: int, limit: int) -> str:
    return (
        f"{name} is {human(size)}: a shared copy may be at most {human(limit)}. "
        "Share a smaller file (a notebook without its large outputs: Edit > Clear Outputs of All Cells)."
    )


def days_text(days: float) -> str:
    if days >= 1 and days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    hours = days * 24
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


# --- The read-only view -----------------------------------------------------------
# The page that shows a snapshot is sent with a Content-Security-Policy that
# forbids scripts and any address outside it, inside a sandboxed frame: even
# a mistake here could not run a student's code in a classmate's browser.
# Everything from the file is escaped on top of that.

VIEW_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
MARKDOWN_CELL_BYTES = 100_000  # a longer Markdown cell is shown as its text
VIEW_BYTES = 32_000_000  # a longer view is replaced by a sentence (the copy has it all)
# The child process that renders a snapshot: a crafted file costs it, not the hub.
RENDER_MEMORY = 768 << 20  # bytes of address space
RENDER_CPU_SECONDS = 30
RENDER_TIMEOUT = 90
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VIEW_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem; color: #222; }
.cell { margin: 0 0 1rem 0; }
.prompt { color: #307fc1; font-family: monospace; font-size: .8rem; }
pre { background: #f7f7f7; border: 1px solid #e0e0e0; padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
pre.output { background: #fff; border: none; border-left: 3px solid #e0e0e0; }
pre.error { background: #fdd; }
.markdown { line-height: 1.5; }
img { max-width: 100%; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .2rem .4rem; }
"""


def _text(value) -> str:
    """Notebook text: a string, or a list of strings (nbformat's multiline)."""
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return value if isinstance(value, str) else ""


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _markdown(source: str) -> str:
    if len(source) > MARKDOWN_CELL_BYTES:
        return f"<pre>{html.escape(source)}</pre>"
    try:
        import mistune  # in the hub's venv (nbconvert's); raw HTML in a cell is escaped
    except ImportError:
        return f"<pre>{html.escape(source)}</pre>"
    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])(source)


def _output(output: dict) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="output">{html.escape(ANSI.sub("", _text(output.get("text"))))}</pre>'
    if kind == "error":
        trace = "\n".join(line for line in _items(output.get("traceback")) if isinstance(line, str))
        return f'<pre class="output error">{html.escape(ANSI.sub("", trace))}</pre>'
    data = output.get("data")
    if not isinstance(data, dict):
        return ""
    for image_type in IMAGE_TYPES:
        encoded = _text(data.get(image_type)).replace("\n", "")
        if encoded:
            try:
                base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            return f'<img alt="" src="data:{image_type};base64,{encoded}">'
    # HTML outputs (a table from pandas, say) are shown as their plain text.
    return f'<pre class="output">{html.escape(_text(data.get("text/plain")))}</pre>'


def _notebook(notebook: dict) -> str:
    parts = []
    for cell in _items(notebook.get("cells")):
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source"))
        if cell.get("cell_type") == "markdown":
            parts.append(f'<div class="cell markdown">{_markdown(source)}</div>')
        elif cell.get("cell_type") == "code":
            count = cell.get("execution_count")
            prompt = f"[{count}]" if isinstance(count, int) else "[ ]"
            outputs = "".join(_output(output) for output in _items(cell.get("outputs")) if isinstance(output, dict))
            parts.append(
                f'<div class="cell code"><div class="prompt">{prompt}</div>'
                f"<pre>{html.escape(source)}</pre>{outputs}</div>"
            )
        else:
            parts.append(f'<div class="cell"><pre>{html.escape(source)}</pre></div>')
    return "\n".join(parts) or "<p>This notebook has no cells.</p>"


def render(name: str, data: bytes) -> str:
    """The snapshot as a page of its own: a notebook's cells, a text file, a picture, or a sentence."""
    body = None
    if name.lower().endswith(".ipynb"):
        try:
            notebook = json.loads(data)
            body = _notebook(notebook) if isinstance(notebook, dict) else None
        except (ValueError, RecursionError):
            body = None
        if body is None:
            body = "<p>This file is not a notebook Jupyter can read. Open a copy to see what it holds.</p>"
    if body is None:
        suffix = name.rpartition(".")[2].lower()
        image_type = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}.get(suffix)
        if image_type:
            body = f'<img alt="" src="data:{image_type};base64,{base64.b64encode(data).decode()}">'
    if body is None:
        try:  # a character cut at the end of the part shown waits for bytes that do not come
            text = codecs.getincrementaldecoder("utf-8")().decode(data[:SHOWN_TEXT_BYTES], final=False)
        except UnicodeDecodeError:
            text = None
        if text is None or "\x00" in text:
            body = f"<p>{html.escape(name)} ({human(len(data))}) cannot be shown here. Open a copy to use it.</p>"
        else:
            cut = "" if len(data) <= SHOWN_TEXT_BYTES else "<p>(The rest is in the copy.)</p>"
            body = f"<pre>{html.escape(text)}</pre>{cut}"
    return render_page(name, body)


def page(name: str, sentence: str) -> str:
    return render_page(name, f"<p>{html.escape(sentence)}</p>")


def render_page(name: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(name)}</title><style>{VIEW_STYLE}</style></head><body>{body}</body></html>"
    )


def render_apart(name: str, data_path: Path, html_path: Path) -> None:
    """Render the snapshot into html_path in a child process with limits; a sentence when it cannot."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "classbox.sharing", "render", name, str(data_path), str(html_path)],
            timeout=RENDER_TIMEOUT,
            capture_output=True,
        )
        if done.returncode == 0:
            return
    except subprocess.TimeoutExpired:
        pass
    sentence = f"{name} cannot be shown here (it is too long or too complex to show). Open a copy to see it."
    write_view(html_path, page(name, sentence).encode())


def write_view(path: Path, view: bytes) -> None:
    """The view's file, for the hub (root) only, never half written."""
    replace_file(path, io.BytesIO(view), 0o600)


def main(argv=None) -> int:
    """python -m classbox.sharing render NAME DATA HTML: the child process of render_apart."""
    _, name, data_path, html_path = sys.argv[1:] if argv is None else argv
    resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY, RENDER_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (RENDER_CPU_SECONDS, RENDER_CPU_SECONDS))
    render_file(name, Path(data_path), Path(html_path))
    return 0


def render_file(name: str, data_path: Path, html_path: Path) -> None:
    view = render(name, data_path.read_bytes()).encode()
    if len(view) > VIEW_BYTES:
        view = page(name, f"{name} is too long to show here. Open a copy to see it.").encode()
    write_view(html_path, view)


if __name__ == "__main__":
    sys.exit(main())

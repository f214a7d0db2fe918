"""The teacher's lessons and data, from a folder on their computer to every student.

The teacher keeps `course/lessons/` (notebooks, small files) and `course/shared/`
(large data) next to the inventory. playbooks/course.yml (the course role):

1. `pack` (on the teacher's computer, standard library only): each folder into
   one tar whose bytes depend only on the files' names and contents (sorted,
   no owners or times, hidden names left out), so that an unchanged folder
   is not handed to the box again;
2. `publish` (on the box): the lessons tar becomes a new commit of the box's
   git repository, only when its files changed, and `lessons.json` lists one
   link per notebook. nginx serves the list, and the repository read-only over
   HTTP (git's "dumb" protocol: plain files) for a clone on a laptop;
3. `sync` (on the box): the shared tar is written into the shared folder in
   place, so that students' running servers, which mount that folder read-only,
   see the new files at once; what the teacher removed goes too.

A lesson's link is nbgitpuller's: the student's own server clones the
repository into ~/lessons the first time and merges the teacher's updates
later, keeping the student's edits (nbgitpuller's rules), then opens the
notebook. `link` below is the one place that writes it.
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
from pathlib import Path, PurePosixPath

# Where each student's copy goes (nbgitpuller's targetpath, in their folder),
# and the branch: nginx lets nbgitpuller pull these only (web role's nginx.conf.j2).
TARGET = "lessons"
BRANCH = "main"
# Names nobody means to hand out: version control, editors' and Jupyter's leftovers.
SKIPPED = {".git", ".ipynb_checkpoints", "__pycache__", ".DS_Store", "Thumbs.db"}
AUTHOR = {
    "GIT_AUTHOR_NAME": "Teacher",
    "GIT_AUTHOR_EMAIL": "teacher@box.lan",
    "GIT_COMMITTER_NAME": "Teacher",
    "GIT_COMMITTER_EMAIL": "teacher@box.lan",
}


class LessonsError(Exception):
    """Something the teacher must fix; str() says what, in a sentence."""


# --- On the teacher's computer ----------------------------------------------


def _files(source: Path) -> list[PurePosixPath]:
    """Every regular file under `source`, relative, sorted; hidden names and links left out."""
    found = []
    for folder, subfolders, names in os.walk(source):
        subfolders[:] = sorted(name for name in subfolders if not _hidden(name))
        for name in names:
            path = Path(folder) / name
            if not _hidden(name) and path.is_file() and not path.is_symlink():
                found.append(PurePosixPath(path.relative_to(source).as_posix()))
    return sorted(found)


def _hidden(name: str) -> bool:
    return name in SKIPPED or name.startswith(".")


def pack(source: Path, output: Path) -> dict:
    """Write `source`'s files into the tar `output` (rewritten only when its bytes change)."""
    if not source.is_dir():
        raise LessonsError(f"{source} is not a folder")
    buffer = io.BytesIO()
    files = _files(source)
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for relative in files:
            path = source / relative
            info = tarfile.TarInfo(str(relative))
            status = path.stat()
            info.size = status.st_size  # mtime stays 0: the bytes depend on the files' contents alone
            info.mode = 0o755 if status.st_mode & stat.S_IXUSR else 0o644
            with open(path, "rb") as stream:
                tar.addfile(info, stream)
    data = buffer.getvalue()
    if not output.is_file() or output.read_bytes() != data:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    return {"tar": str(output), "sha256": hashlib.sha256(data).hexdigest(), "files": len(files)}


# --- On the box ---------------------------------------------------------------


def _members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The tar's files, each checked to land inside the folder it is unpacked into."""
    members = []
    for member in tar.getmembers():
        parts = PurePosixPath(member.name).parts
        if not member.isfile() or member.name.startswith("/") or ".." in parts or not parts:
            raise LessonsError(f"the archive holds {member.name!r}, which is not a plain file inside it")
        members.append(member)
    return members


def _git(repo: Path, *args: str, env=None, work_tree: Path | None = None) -> str:
    command = ["git", f"--git-dir={repo}"] + ([f"--work-tree={work_tree}"] if work_tree else []) + list(args)
    result = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, **AUTHOR, **(env or {})}
    )
    return result.stdout.strip()


def _current_tree(repo: Path) -> str | None:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}^{{tree}}")
    except subprocess.CalledProcessError:
        return None  # nothing published yet


def title_of(notebook: Path) -> str:
    """A notebook's first Markdown heading, else its name without .ipynb."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        cells = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        for line in text.splitlines():
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
                if heading:
                    return heading
    return notebook.stem


def link(repo: Path, path: str) -> str:
    """The nbgitpuller link that opens `path` (relative to the lessons) in the student's own
    copy, relative to the hub's URL (/jupyterhub/): each page that shows it puts its own in front.

    The student's server fetches from the repository's folder on the box
    (file://), where only root can write (/etc/gitconfig names it safe).
    """
    query = urllib.parse.urlencode(
        {
            "repo": f"file://{repo}",
            "branch": BRANCH,
            "targetpath": TARGET,
            "urlpath": f"lab/tree/{TARGET}/{path}",
        }
    )
    return f"hub/user-redirect/git-pull?{query}"


def index(files_root: Path, files: list[str], repo: Path) -> list[dict]:
    """One entry per notebook: its title, its path, its folder and its link, in path order."""
    lessons = []
    for name in sorted(files):
        if name.endswith(".ipynb"):
            folder = str(PurePosixPath(name).parent)
            lessons.append(
                {
                    "title": title_of(files_root / name),
                    "path": name,
                    "folder": "" if folder == "." else folder,
                    "link": link(repo, name),
                }
            )
    return lessons


# A file being written, before it is renamed into place (classbox.sharing
# removes those a stopped hub left behind).
WRITING = ".writing-"


def replace_file(path: Path, source, mode: int) -> None:
    """Write the stream `source` to a new file renamed over `path`: a reader sees the old file or the new.

    The package's one writer of files that others read while they change (the
    lessons, their index and shared data here; shared snapshots' views in
    classbox.sharing; the gzip copies nginx sends, in classbox.precompress).
    """
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=WRITING, delete=False) as temp:
        try:
            shutil.copyfileobj(source, temp)
        except BaseException:
            os.unlink(temp.name)
            raise
    os.chmod(temp.name, mode)  # modified: when it was published
    os.replace(temp.name, path)


def _write_json(path: Path, content) -> bool:
    """Write `content` as JSON (readable by all), only when it changed; True if it did."""
    text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    replace_file(path, io.BytesIO(text.encode("utf-8")), 0o644)
    return True


def publish(archive: Path, repo: Path, index_path: Path) -> dict:
    """Commit the archive's files to `repo` when they changed, and write the list of lessons."""
    if not (repo / "HEAD").is_file():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "--quiet", "--bare", f"--initial-branch={BRANCH}")
    with tempfile.TemporaryDirectory(prefix="classbox-lessons-") as scratch:
        files_root = Path(scratch) / "files"
        files = sync(archive, files_root)["written"]  # into an empty folder: every file
        index_env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(repo, "add", "--all", ".", env=index_env, work_tree=files_root)
        tree = _git(repo, "write-tree", env=index_env)
        before = _current_tree(repo)
        changed = tree != before
        if changed:
            parent = ["-p", f"refs/heads/{BRANCH}"] if before else []
            stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
            commit = _git(repo, "commit-tree", tree, *parent, "-m", f"Lessons published on {stamp}")
            _git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)
        # The dumb protocol's list of refs and packs: what nginx serves to git.
        _git(repo, "update-server-info")
        lessons = index(files_root, files, repo)
    listed = _write_json(index_path, {"lessons": lessons})
    return {"changed": changed or listed, "lessons": len(lessons), "files": len(files)}


def sync(archive: Path, target: Path) -> dict:
    """Make `target` hold exactly the archive's files, changing only what differs.

    In place (never a new folder renamed over it): students' servers mount this
    folder, and a mount keeps the folder it was made with.
    """
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o755)
    written, removed = [], []
    with tarfile.open(archive) as tar:
        members = _members(tar)
        wanted = {member.name for member in members}
        for member in members:
            path = target / member.name
            for folder in reversed(PurePosixPath(member.name).parents[:-1]):
                (target / folder).mkdir(mode=0o755, exist_ok=True)
            if not _holds(path, tar, member):  # files are streamed: shared data may be large
                replace_file(path, tar.extractfile(member), member.mode & 0o755)
                written.append(member.name)
    for folder, subfolders, names in os.walk(target, topdown=False):
        for name in names + subfolders:
            path = Path(folder) / name
            relative = path.relative_to(target).as_posix()
            if relative in wanted or any(other.startswith(relative + "/") for other in wanted):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(relative)
    return {"changed": bool(written or removed), "written": written, "removed": removed}


def _holds(path: Path, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bool:
    """True when `path` is a plain file with the member's mode and contents."""
    if path.is_symlink() or not path.is_file():
        return False
    status = path.stat()
    if stat.S_IMODE(status.st_mode) != member.mode & 0o755 or status.st_size != member.size:
        return False
    with open(path, "rb") as current:
        return (
            hashlib.file_digest(current, "sha256").digest()
            == hashlib.file_digest(tar.extractfile(member), "sha256").digest()
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    packing = steps.add_parser("pack", help="a folder into a tar, on the teacher's computer")
    packing.add_argument("source", type=Path)
    packing.add_argument("output", type=Path)
    publishing = steps.add_parser("publish", help="the lessons' tar into the box's git repository")
    publishing.add_argument("archive", type=Path)
    publishing.add_argument("--repo", type=Path, required=True)
    publishing.add_argument("--index", type=Path, required=True)
    syncing = steps.add_parser("sync", help="the shared data's tar into the shared folder")
    syncing.add_argument("archive", type=Path)
    syncing.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.step == "pack":
            result = pack(args.source, args.output)
        elif args.step == "publish":
            result = publish(args.archive, args.repo, args.index)
        else:
            result = sync(args.archive, args.target)
    except (LessonsError, tarfile.TarError, OSError) as error:
        print(f"classbox.lessons: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

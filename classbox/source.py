#!/usr/bin/env python3
"""The classbox package's source as one tar archive, the same bytes for the
same files: the jupyterhub role copies it to the box in one step (a file at a
time costs seconds each on an emulated or a slow box) and unpacks it only
when it changed.

    python -m classbox.source OUT.tar      (from the repository's root)

Only the package's own files travel (pyproject.toml, classbox/*.py,
classbox/templates/*.html, and JupyterLab's Share a copy as built, in
classbox/labextension/built): never a cache (__pycache__), nor the extension's
source or node_modules.
"""

import hashlib
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = (
    "pyproject.toml",
    "classbox/*.py",
    "classbox/templates/*.html",
    "classbox/labextension/built/package.json",
    "classbox/labextension/built/static/*",
)
# One fixed time for every folder, so the same files make the same bytes; after
# 1980, since building the wheel zips them and ZIP has no earlier dates.
FIXED_MTIME = 1577836800  # 2020-01-01


def files(root: Path = ROOT) -> list[Path]:
    return sorted({path for pattern in PATTERNS for path in root.glob(pattern)})


def content_mtime(path: Path) -> int:
    """A time made from the file's content, within a year after FIXED_MTIME: the same
    file gets the same time, a changed one another (nginx's ETag, made of the time
    and the size, changes with it: the Share a copy extension's style.js)."""
    return FIXED_MTIME + int.from_bytes(hashlib.sha256(path.read_bytes()).digest()[:3], "big")


def write(out: Path, root: Path = ROOT):
    def plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = FIXED_MTIME if info.isdir() else content_mtime(root / info.name)
        info.mode = 0o755 if info.isdir() else 0o644
        return info

    paths = files(root)
    # each file's folders first, so that unpacking makes them with these modes
    folders = sorted({folder for path in paths for folder in path.relative_to(root).parents} - {Path(".")})
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as archive:
        for folder in folders:
            archive.add(root / folder, arcname=str(folder), recursive=False, filter=plain)
        for path in paths:
            archive.add(path, arcname=str(path.relative_to(root)), filter=plain)


if __name__ == "__main__":
    write(Path(sys.argv[1]))

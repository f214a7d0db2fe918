"""A gzip copy beside each of JupyterLab's and the hub's text files, for nginx.

nginx sends these files itself (the web role's gzip_static): with `name.gz`
beside `name`, a browser that accepts gzip gets the copy, compressed once at
install instead of at every request. A copy is made again when its file
changed (the copy keeps its file's time), and a copy whose file is gone is
removed, so nginx never sends an old version.

    python -m classbox.precompress [--check] FOLDER...

Prints what it did (or, with --check, what it would do), starting with
"changed" or "unchanged": the jupyterhub role's task reads that word.
"""

import gzip
import io
import os
import sys
from pathlib import Path

from .lessons import replace_file

# Text that compresses; pictures and woff/woff2 fonts are compressed already,
# and source maps are only fetched by a browser's developer tools.
SUFFIXES = (".js", ".mjs", ".css", ".json", ".html", ".svg", ".txt", ".xml", ".ttf", ".otf", ".eot", ".wasm")
# Below this nginx would send more bytes in headers than gzip saves.
MIN_BYTES = 1024


def worth_compressing(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


def copy_of(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def plan(folders: list[Path]) -> tuple[list[Path], list[Path], int]:
    """(files whose copy is missing or old, copies to remove, copies up to date).

    A copy goes when nginx must not send it: its file is gone, too small now,
    a link, or of a kind not compressed (gzip_static would send the copy of
    any name it finds)."""
    to_write, to_remove, current = [], [], 0
    seen = set()  # folders walked, by device and inode: a link that loops is walked once
    for folder in folders:
        # followlinks: the Share a copy extension is a link into the classbox package.
        for top, dirs, names in os.walk(folder, followlinks=True):
            here = os.stat(top)
            if (here.st_dev, here.st_ino) in seen:
                dirs[:] = []
                continue
            seen.add((here.st_dev, here.st_ino))
            for name in names:
                path = Path(top, name)
                if name.endswith(".gz"):
                    original = path.with_name(name[:-3])
                    # (only a copy this could have made: a package's own data.tar.gz stays)
                    if worth_compressing(original) and wanted(original) is None:
                        to_remove.append(path)
                    continue
                stat = wanted(path)
                if stat is None:
                    continue
                try:
                    fresh = copy_of(path).stat().st_mtime_ns == stat.st_mtime_ns
                except FileNotFoundError:
                    fresh = False
                if fresh:
                    current += 1
                else:
                    to_write.append(path)
    return to_write, to_remove, current


def wanted(path: Path) -> os.stat_result | None:
    """The file's stat if it gets a gzip copy, else None."""
    if not worth_compressing(path) or path.is_symlink():
        return None
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat if stat.st_size >= MIN_BYTES else None


def write_copy(path: Path):
    """Write path.gz beside path, whole or not at all (the package's one writer), with path's time."""
    stat = path.stat()
    target = copy_of(path)
    # mtime=0 in the gzip header: the same file makes the same bytes.
    packed = io.BytesIO(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
    replace_file(target, packed, stat.st_mode & 0o777)  # a file nginx may not read, nor its copy
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    folders = [Path(arg) for arg in argv if arg != "--check"]
    if not folders:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python -m classbox.precompress [--check] FOLDER...", file=sys.stderr)
        return 2
    to_write, to_remove, current = plan([folder for folder in folders if folder.is_dir()])
    if not check:
        for path in to_write:
            write_copy(path)
        for path in to_remove:
            path.unlink()
    word = "changed" if to_write or to_remove else "unchanged"
    verb = "to write" if check else "written"
    print(f"{word}: gzip copies {verb} {len(to_write)}, removed {len(to_remove)}, up to date {current}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""JupyterLab's "Share a copy" is built from classbox/labextension into its built/ folder,
which is committed (scripts/build-labextension.sh). built/source.sha256 names the
source it came from:

    python -m classbox.labextension_check           (make lint: built/ is from this source)
    python -m classbox.labextension_check --write   (the build script, after a build)
"""

import hashlib
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "labextension"
SOURCES = ("index.js", "package.json", "package-lock.json")
RECORD = FOLDER / "built" / "source.sha256"


def digest() -> str:
    sha = hashlib.sha256()
    for name in SOURCES:
        sha.update(name.encode() + b"\0" + (FOLDER / name).read_bytes() + b"\0")
    return sha.hexdigest()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--write" in argv:
        RECORD.write_text(digest() + "\n")
        return 0
    recorded = RECORD.read_text().strip() if RECORD.exists() else "none"
    if recorded != digest():
        print(f"{FOLDER}/built is not built from its source: run scripts/build-labextension.sh", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

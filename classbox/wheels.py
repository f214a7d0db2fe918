#!/usr/bin/env python3
"""Check that every pinned package of the hub's venv installs from a wheel.

The box installs with `pip --only-binary=:all: --require-hashes`: nothing is
compiled there (a Raspberry Pi would take many minutes per package), and only
files whose sha256 the lock lists are accepted. This asks PyPI, for each pin of
the hashed lock roles/jupyterhub/files/requirements.txt, whether a wheel fits
Debian 12's CPython 3.11 (glibc 2.36) on amd64 and on arm64 and has its sha256
in the lock, or whether one is in roles/jupyterhub/files/wheels/. Exits 1
naming every package without one.
"""

import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion

# The bundle builder downloads wheels for the same platforms: one definition.
from classbox.bundle import MACHINES as ARCHITECTURES
from classbox.bundle import pip_platforms, project_key, read_lock, sha256_of

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "roles" / "jupyterhub" / "files" / "requirements.txt"
LOCAL_WHEELS = ROOT / "roles" / "jupyterhub" / "files" / "wheels"
PYTHON = (3, 11)


def supported_tags(arch: str) -> set:
    plats = pip_platforms(arch)
    return set(cpython_tags(PYTHON, abis=["cp311"], platforms=plats)) | set(
        compatible_tags(PYTHON, interpreter="cp311", platforms=plats)
    )


def wheel_files(name: str) -> list[tuple[str, str]]:
    """Every wheel PyPI has of `name`, with its sha256 (the simple index, as JSON)."""
    request = urllib.request.Request(
        f"https://pypi.org/simple/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        project = json.load(answer)
    return [(f["filename"], f["hashes"].get("sha256")) for f in project["files"] if f["filename"].endswith(".whl")]


def main() -> int:
    wanted = {arch: supported_tags(arch) for arch in ARCHITECTURES}
    local = [(path.name, sha256_of(path)) for path in LOCAL_WHEELS.glob("*.whl")]
    lock = read_lock(PINS)
    with ThreadPoolExecutor(max_workers=16) as pool:
        published = dict(zip(lock, pool.map(wheel_files, lock), strict=True))
    missing = []
    for name, files in published.items():
        version, hashes = lock[name]
        candidates = files + [(f, digest) for f, digest in local if project_key(f.split("-", 1)[0]) == name]
        tags = set()
        for filename, digest in candidates:
            try:
                _, wheel_version, _, wheel_tags = parse_wheel_filename(filename)
            except (InvalidWheelFilename, InvalidVersion):
                continue  # old uploads with names today's tools refuse
            if str(wheel_version) == version and digest in hashes:
                tags |= set(wheel_tags)
        for arch, supported in wanted.items():
            if not tags & supported:
                missing.append(f"{name}=={version} has no wheel for {arch} whose sha256 the lock lists")
    for line in missing:
        print(
            f"make wheels: {line} (pip on the box would refuse it; see {LOCAL_WHEELS.relative_to(ROOT)}/README.md, "
            "then make pins)",
            file=sys.stderr,
        )
    if not missing:
        print(
            f"make wheels: all {len(lock)} pinned packages have wheels for {', '.join(ARCHITECTURES)}, "
            "their sha256 in the lock"
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The hub's hashed locks, one per Python of the Debian releases a box runs.

`python -m classbox.wheels pins` (`make pins`) resolves
roles/jupyterhub/files/requirements.in into requirements-python<X.Y>.txt for
each release of classbox_debian_releases (playbooks/group_vars/all/box.yml,
the one owner of the table) with `uv pip compile --generate-hashes`, for that
release's CPython and glibc.

`python -m classbox.wheels` (`make wheels`) checks each lock against PyPI: the
box installs with `pip --only-binary=:all: --require-hashes`, so nothing is
compiled there (a Raspberry Pi would take many minutes per package), and only
files whose sha256 the lock lists are accepted. For each pin of each lock it
asks whether a wheel fits that release's CPython and glibc on amd64 and on
arm64 and has its sha256 in the lock, or whether one is in
roles/jupyterhub/files/wheels/. Exits 1 naming every package without one.
"""

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion

# The bundle builder downloads wheels for the same platforms: one definition.
from classbox.bundle import MACHINES as ARCHITECTURES
from classbox.bundle import glibc_minor, pip_platforms, project_key, read_lock, sha256_of

ROOT = Path(__file__).resolve().parent.parent
BOX_FACTS = ROOT / "playbooks" / "group_vars" / "all" / "box.yml"
FILES = ROOT / "roles" / "jupyterhub" / "files"
CHOSEN = FILES / "requirements.in"
LOCAL_WHEELS = FILES / "wheels"
# A line of requirements.in that says why one lock differs from the others:
# "# python3.13: <package> <why>" (make pins copies it into that lock's header).
NOTE = re.compile(r"^# python(?P<python>\d+\.\d+): (?P<name>[A-Za-z0-9._-]+)\b.*$", re.MULTILINE)
# The newest manylinux uv 0.13 can resolve for; `make wheels` checks the
# release's real glibc.
UV_NEWEST_GLIBC_MINOR = 40


def releases(path: Path = BOX_FACTS) -> dict[str, dict[str, str]]:
    """classbox_debian_releases: codename -> debian, python, python_release, glibc."""
    return yaml.safe_load(path.read_text())["classbox_debian_releases"]


def lock_of(python: str) -> Path:
    """The lock of a Python, as classbox_python_lock names it."""
    return FILES / f"requirements-python{python}.txt"


def pythons(table: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One release per Python (its lock's target), oldest Python first."""
    by_python = {}
    for codename, facts in sorted(table.items(), key=lambda item: python_tuple(item[1]["python"])):
        by_python.setdefault(facts["python"], dict(facts, codename=codename))
    return by_python


def python_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --- make pins ------------------------------------------------------------------


def uv_compile(facts: dict[str, str], source: Path, output: Path, arch: str | None = "amd64", extra=()) -> list[str]:
    """uv's command that locks `source` with hashes for one release's Python on `arch`: the hub's
    lock (make pins) and the course's (classbox.course) alike. With no arch, one lock for that
    Python or newer on any computer (markers say which pin is whose)."""
    if arch is None:
        target = ["--universal"]
    else:
        target = [
            "--python-platform",
            f"{ARCHITECTURES[arch]}-manylinux_2_{min(glibc_minor(facts['glibc']), UV_NEWEST_GLIBC_MINOR)}",
        ]
    return [
        "uv",
        "pip",
        "compile",
        str(source),
        "--output-file",
        str(output),
        "--generate-hashes",
        "--python-version",
        facts["python_release"],
        *target,
        "--index-url",
        "https://pypi.org/simple",
        "--no-config",
        # the computer's own certificates, as pip uses them: a school's network
        # that inspects HTTPS has its certificate there, not in uv's copy
        "--system-certs",
        "--quiet",
        *extra,
    ]


def compile_command(facts: dict[str, str], output: Path, upgrade: list[str]) -> list[str]:
    """The uv command that writes the hub's lock of one release's Python."""
    local = ["--find-links", str(LOCAL_WHEELS.relative_to(ROOT)), "--custom-compile-command", "make pins"]
    return uv_compile(facts, CHOSEN.relative_to(ROOT), output.relative_to(ROOT), "amd64", local + upgrade)


def pins(upgrade: list[str]) -> int:
    by_python = pythons(releases())
    oldest = lock_of(next(iter(by_python)))
    for python, facts in by_python.items():
        output = lock_of(python)
        if not output.exists() and oldest.exists():
            # A new Python's lock starts from the versions of the oldest one:
            # uv keeps those that fit, so the locks differ only where they must.
            output.write_text(oldest.read_text())
        print(f"make pins: {output.relative_to(ROOT)} for {facts['codename']} (Python {facts['python_release']})")
        result = subprocess.run(compile_command(facts, output, upgrade), cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
    locks = {python: read_lock(lock_of(python)) for python in by_python}
    notes = notes_of(CHOSEN.read_text())
    for python in by_python:
        with_notes(lock_of(python), notes.get(python, []))
    unexplained = unexplained_differences(locks, notes)
    for line in unexplained:
        print(
            f"make pins: {line}: say why in {CHOSEN.relative_to(ROOT)} "
            "('# python<X.Y>: <package> <why>', X.Y the lock that differs)",
            file=sys.stderr,
        )
    for line in differences(locks):
        print(f"make pins: differs: {line}")
    return 1 if unexplained else 0


def notes_of(chosen: str) -> dict[str, list[tuple[str, str]]]:
    """Python -> (package key, comment line) of requirements.in's notes on that Python's lock."""
    notes = {}
    for match in NOTE.finditer(chosen):
        notes.setdefault(match["python"], []).append((project_key(match["name"]), match[0]))
    return notes


def with_notes(lock: Path, notes: list[tuple[str, str]]):
    """Put the notes below uv's header (uv writes the file anew each time: the same result)."""
    lines = lock.read_text().splitlines(keepends=True)
    header = 0
    while header < len(lines) and lines[header].startswith("#") and "==" not in lines[header]:
        header += 1
    body = [line for line in lines[header:] if not NOTE.match(line)]
    kept = [line for line in lines[:header] if not NOTE.match(line) and line.strip() != HEADING.strip()]
    added = [HEADING] + [line + "\n" for _, line in notes] if notes else []
    lock.write_text("".join(kept + added + body))


HEADING = "# Where this lock differs from the other Pythons' (from requirements.in):\n"


def unexplained_differences(
    locks: dict[str, dict[str, tuple[str, set[str]]]], notes: dict[str, list[tuple[str, str]]]
) -> list[str]:
    """Each pin of a lock that differs from the oldest Python's lock without a note saying why."""
    oldest, *others = locks
    lines = []
    for python in others:
        noted = {name for name, _ in notes.get(python, [])}
        for name in sorted(set(locks[oldest]) | set(locks[python])):
            mine, theirs = (locks[p].get(name, ("absent",))[0] for p in (python, oldest))
            if mine != theirs and name not in noted:
                lines.append(f"{lock_of(python).name} has {name} {mine}, the Python {oldest} lock {theirs}")
    return lines


def differences(locks: dict[str, dict[str, tuple[str, set[str]]]]) -> list[str]:
    """Each pin whose version is not the same in every lock (Python -> its lock)."""
    names = sorted(set().union(*locks.values()))
    lines = []
    for name in names:
        versions = {python: lock[name][0] if name in lock else "absent" for python, lock in locks.items()}
        if len(set(versions.values())) > 1:
            lines.append(f"{name}: " + ", ".join(f"{v} for Python {p}" for p, v in versions.items()))
    return lines


# --- make wheels ----------------------------------------------------------------


def supported_tags(python: str, glibc: str, arch: str) -> set:
    """The wheel tags pip accepts for that CPython on that glibc and architecture."""
    version = python_tuple(python)[:2]
    abi = f"cp{version[0]}{version[1]}"
    plats = pip_platforms(arch, glibc_minor(glibc))
    return set(cpython_tags(version, abis=[abi], platforms=plats)) | set(
        compatible_tags(version, interpreter=abi, platforms=plats)
    )


def wheel_files(name: str) -> list[tuple[str, str, str | None]]:
    """Every wheel PyPI has of `name`, with its sha256 and Requires-Python (the simple index, as JSON)."""
    request = urllib.request.Request(
        f"https://pypi.org/simple/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        project = json.load(answer)
    return [
        (f["filename"], f["hashes"].get("sha256"), f.get("requires-python"))
        for f in project["files"]
        if f["filename"].endswith(".whl")
    ]


def wheel_tags(name: str, version: str, hashes: set[str], candidates: list[tuple[str, str]]) -> set:
    """The tags of the wheels of name==version among `candidates` whose sha256 the lock lists."""
    tags = set()
    for filename, digest, *_ in candidates:
        try:
            wheel_name, wheel_version, _, tags_of_wheel = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue  # old uploads with names today's tools refuse
        if project_key(wheel_name) == name and str(wheel_version) == version and digest in hashes:
            tags |= set(tags_of_wheel)
    return tags


def missing_wheels(
    lock: dict[str, tuple[str, set[str]]], files: dict[str, list[tuple[str, str]]], wanted: dict[str, set]
) -> list[str]:
    """One line per pin and architecture (arch -> supported tags) without a fitting wheel in `files`."""
    missing = []
    for name, (version, hashes) in sorted(lock.items()):
        tags = wheel_tags(name, version, hashes, files.get(name, []))
        missing += [
            f"{name}=={version} has no wheel for {arch} whose sha256 the lock lists"
            for arch, supported in wanted.items()
            if not tags & supported
        ]
    return missing


def refused_pythons(lock: dict[str, tuple[str, set[str]]], files: dict[str, list[tuple]], python: str) -> list[str]:
    """One line per pin whose every locked file refuses this very Python (uv resolves for
    --python-version "or newer": it took jupyter-archive 3.5.1, which refuses 3.11.2)."""
    lines = []
    for name, (version, hashes) in sorted(lock.items()):
        wants = [rest[0] if rest else None for _, digest, *rest in files.get(name, []) if digest in hashes]
        if wants and all(want and python not in SpecifierSet(want) for want in wants):
            lines.append(f"{name}=={version} requires Python {wants[0]}, not {python}")
    return lines


def check() -> int:
    local = [(path.name, sha256_of(path)) for path in LOCAL_WHEELS.glob("*.whl")]
    by_python = pythons(releases())
    locks = {python: read_lock(lock_of(python)) for python in by_python if lock_of(python).exists()}
    absent = [lock_of(python).relative_to(ROOT) for python in by_python if python not in locks]
    names = sorted(set().union(*locks.values()))
    with ThreadPoolExecutor(max_workers=16) as pool:
        published = dict(zip(names, pool.map(wheel_files, names), strict=True))
    failures = [f"{path} does not exist: run make pins" for path in absent]
    for python, lock in locks.items():
        facts = by_python[python]
        wanted = {arch: supported_tags(python, facts["glibc"], arch) for arch in ARCHITECTURES}
        files = {
            name: published[name] + [w for w in local if project_key(w[0].split("-", 1)[0]) == name] for name in lock
        }
        failures += [
            f"{lock_of(python).relative_to(ROOT)}: {line} (Python {python}, glibc {facts['glibc']})"
            for line in missing_wheels(lock, files, wanted)
        ] + [
            f"{lock_of(python).relative_to(ROOT)}: {line} ({facts['codename']}'s)"
            for line in refused_pythons(lock, files, facts["python_release"])
        ]
        if not any(line.startswith(str(lock_of(python).relative_to(ROOT))) for line in failures):
            print(
                f"make wheels: {lock_of(python).relative_to(ROOT)}: all {len(lock)} pinned packages have wheels "
                f"for {facts['codename']} (Python {python}, glibc {facts['glibc']}) on {', '.join(ARCHITECTURES)}, "
                "their sha256 in the lock"
            )
    for line in failures:
        print(
            f"make wheels: {line} (pip on the box would refuse it; see {LOCAL_WHEELS.relative_to(ROOT)}/README.md, "
            "then make pins)",
            file=sys.stderr,
        )
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    pins_parser = commands.add_parser("pins", help="write the lock of each release's Python (make pins)")
    pins_parser.add_argument("--upgrade-package", action="append", default=[], help="let uv upgrade this package")
    pins_parser.add_argument("--upgrade", action="store_true", help="let uv upgrade every package")
    args = parser.parse_args(argv)
    if args.command == "pins":
        upgrade = [f"--upgrade-package={name}" for name in args.upgrade_package]
        return pins(upgrade + (["--upgrade"] if args.upgrade else []))
    return check()


if __name__ == "__main__":
    sys.exit(main())

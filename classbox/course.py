#!/usr/bin/env python3
"""The course's Python: the teacher's packages, locked on the controller,
installed on the box beside the hub's venv (the course role).

`python -m classbox.course lock --dir D --releases JSON --packages JSON` runs
on the controller. It writes D/requirements.in (the teacher's lines, plus
ipykernel, which makes the environment a kernel), then, by uv (the hub's lock
tool), wheels only, every package pinned with the sha256 of its files:
- D/requirements.txt, for any computer with the oldest release's Python or a
  newer one (markers say which pin is whose): what a student installs at home
  or on Binder, and where the versions come from;
- for each Python of the Debian releases a box runs, D/requirements-python<X.Y>.txt:
  those same versions, the ones that Python needs on Linux, which the box and
  the offline bundle install. Each must resolve on amd64 and on arm64; a
  package without a wheel for one of them stops it with one sentence that names
  the package and the architecture.
Locks whose recorded input is the same lines are kept as they are, without
asking PyPI: a re-run, even offline, changes nothing. Prints one JSON object
({"changed": ..., "anywhere": path, "locks": {...}}).

`python -m classbox.course prune --root R --keep ID` runs on the box: it
removes each environment R/<id> except ID that no process runs (a kernel runs
as R/<id>/bin/python, its argv[0]), and prints {"removed": [...]}.

Errors go to stderr as one sentence, with exit status 1.
"""

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from classbox.bundle import MACHINES, read_lock
from classbox.wheels import pythons, refused_pythons, uv_compile, wheel_files

# Without it the environment cannot be a kernel.
KERNEL_PACKAGE = "ipykernel"
# The first line of each lock: the sha256 of what it was resolved from.
INPUT_LINE = re.compile(r"^# input sha256: (?P<digest>[0-9a-f]{64})$", re.MULTILINE)
# uv's reasons for a package it cannot resolve with wheels only.
NO_WHEEL = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:[=<>!~]=\S*)? (?:has|have) no (?:usable )?wheels")
# The lock for any computer (home, Binder); the box's are requirements-python<X.Y>.txt.
ANYWHERE = "requirements.txt"
# An environment's folder: the first 16 hex digits of its lock's sha256.
ENVIRONMENT = re.compile(r"[0-9a-f]{16}")
NOT_FOUND = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry")


class CourseError(Exception):
    """A sentence for the teacher: what is wrong with course_packages, and what to do."""


# --- lock (the controller) ------------------------------------------------------


def requirement_lines(packages: list[str]) -> list[str]:
    """The teacher's lines, checked one by one, plus ipykernel when they do not name it."""
    lines = []
    for raw in packages:
        line = str(raw).strip()
        if line.startswith("-") or "://" in line or line.startswith((".", "/")):
            raise CourseError(
                f"course_packages: '{line}' is not a package from PyPI: give a name and, if you like, "
                "a version (numpy or numpy==2.3.4), one per line."
            )
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            why = str(error).splitlines()[0]
            raise CourseError(f"course_packages: '{line}' is not a requirement pip understands ({why}).") from None
        if requirement.url:
            raise CourseError(f"course_packages: '{line}' names a URL; the box installs packages from PyPI only.")
        lines.append(line)
    names = {canonicalize_name(Requirement(line).name) for line in lines}
    if KERNEL_PACKAGE not in names:
        lines.append(KERNEL_PACKAGE)
    return lines


def input_digest(lines: list[str], releases: list[dict[str, str]]) -> str:
    """What the locks are resolved from: the lines, and each release's Python and C library."""
    targets = sorted((facts["python_release"], facts["glibc"]) for facts in releases)
    text = json.dumps({"lines": lines, "targets": targets}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    try:
        match = INPUT_LINE.search(lock.read_text())
    except FileNotFoundError:
        return None
    return match["digest"] if match else None


def reason(output: str, arch: str | None, facts: dict[str, str]) -> str:
    """One sentence from uv's answer when it cannot resolve (arch None: the lock for any computer)."""
    where = f"{arch} (Python {facts['python']} of Debian {facts['debian']})" if arch else f"Python {facts['python']}"
    if match := NO_WHEEL.search(output):
        return (
            f"course_packages: {match[1]} has no wheel for {where}, and the box installs wheels only "
            "(nothing is compiled on a Raspberry Pi): choose a version that has one, or leave it out."
        )
    if match := NOT_FOUND.search(output):
        return f"course_packages: {match[1]} is not on PyPI (check its spelling)."
    last = [line for line in output.strip().splitlines() if line.strip()][-1:] or ["no answer"]
    return f"course_packages: the packages cannot be installed together on {where}: {last[0].strip()}"


def resolve(uv: str, source: Path, output: Path, facts: dict[str, str], arch: str | None, extra: list[str]):
    # from the lock's folder: the lock says "via -r requirements.in", wherever the folder is
    result = subprocess.run(
        [uv, *uv_compile(facts, Path(source.name), output, arch, ["--only-binary", ":all:", *extra])[1:]],
        capture_output=True,
        text=True,
        cwd=source.parent,
    )
    if result.returncode != 0:
        raise CourseError(reason(result.stderr + result.stdout, arch, facts))


def lock(folder: Path, releases: dict[str, dict[str, str]], packages: list[str], uv: str) -> dict:
    lines = requirement_lines(packages)
    by_python = pythons(releases)
    digest = input_digest(lines, list(by_python.values()))
    anywhere = folder / ANYWHERE
    locks = {python: folder / f"requirements-python{python}.txt" for python in by_python}
    result = {
        "changed": False,
        "anywhere": str(anywhere),
        "locks": {python: str(path) for python, path in locks.items()},
    }
    if all(recorded_digest(path) == digest for path in (anywhere, *locks.values())):
        return result
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "requirements.in"
    wanted_source = "".join(f"{line}\n" for line in lines)
    if not source.exists() or source.read_text() != wanted_source:
        source.write_text(wanted_source)
    oldest = next(iter(by_python.values()))
    # Written in its place first, without its header: the box's locks name it
    # as their constraint ("-c requirements.txt"), and a lock without the
    # header is resolved again by the next run.
    resolve(uv, source, Path(ANYWHERE), oldest, None, ["--no-header"])
    everywhere = anywhere.read_text()
    with tempfile.TemporaryDirectory() as scratch:
        resolved = {}
        for python, facts in by_python.items():
            resolved[python] = Path(scratch) / locks[python].name
            first, *others = MACHINES
            resolve(uv, source, resolved[python], facts, first, ["--no-header", "--constraint", ANYWHERE])
            for arch in others:  # the same pins, each with a wheel there too
                pinned = ["--constraint", str(resolved[python])]
                resolve(uv, source, Path(scratch) / f"{python}-{arch}.txt", facts, arch, pinned)
            refuse_other_pythons(read_lock(resolved[python]), facts)
        anywhere.write_text(
            f"# input sha256: {digest}\n"
            f"# The course's packages for Python {oldest['python']} or newer, on any computer:\n"
            "#   pip install -r requirements.txt\n"
            "# Written by the course role from course_packages (the box installs the same versions,\n"
            "# requirements-python<X.Y>.txt): do not edit.\n" + everywhere
        )
        for python, facts in by_python.items():
            locks[python].write_text(
                f"# input sha256: {digest}\n"
                f"# The course's packages on a box with Python {facts['python']} (Debian {facts['debian']}, "
                f"{', '.join(MACHINES)}): the versions of requirements.txt. Written by the course role "
                "from course_packages: do not edit.\n" + resolved[python].read_text()
            )
    result["changed"] = True
    return result


def refuse_other_pythons(pins: dict[str, tuple[str, set[str]]], facts: dict[str, str]):
    """uv resolves for the release's Python "or newer"; pip on the box checks the very version."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        files = dict(zip(pins, pool.map(wheel_files, pins), strict=True))
    refused = refused_pythons(pins, files, facts["python_release"])
    if refused:
        raise CourseError(
            f"course_packages: {refused[0]} (Debian {facts['debian']}'s): pin an older version of it "
            "in course_packages."
        )


def uv_program() -> str:
    """uv beside this Python (the controller's venv), or on the PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise CourseError(
            "uv, which locks the course's packages, is not installed here: run scripts/setup-control.sh again."
        )
    return found


# --- prune (the box) -------------------------------------------------------------


def environments_in_use(root: Path, proc: Path = Path("/proc")) -> set[str]:
    """The environments under root that a process runs (its argv[0] is inside one)."""
    used = set()
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            program = cmdline.read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        path = Path(program)
        if path.is_absolute() and path.is_relative_to(root) and path != root:
            used.add(path.relative_to(root).parts[0])
    return used


def prune(root: Path, keep: str, proc: Path = Path("/proc")) -> dict:
    used = environments_in_use(root, proc)
    removed = []
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        if not ENVIRONMENT.fullmatch(child.name) or child.is_symlink() or child.name in (keep, *used):
            continue  # current, the kernels' folder, the one kept, the ones in use
        shutil.rmtree(child)
        removed.append(child.name)
    return {"removed": removed, "in_use": sorted(used - {keep})}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    lock_parser = commands.add_parser("lock", help="lock course_packages for each release's Python (controller)")
    lock_parser.add_argument("--dir", type=Path, required=True)
    lock_parser.add_argument("--releases", required=True, help="classbox_debian_releases, as JSON")
    lock_parser.add_argument("--packages", required=True, help="course_packages, as JSON")
    prune_parser = commands.add_parser("prune", help="remove the environments no process runs (box)")
    prune_parser.add_argument("--root", type=Path, required=True)
    prune_parser.add_argument("--keep", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            packages = json.loads(args.packages)
            if not isinstance(packages, list) or not packages:
                raise CourseError("course_packages must be a list of packages, one per line; it is empty.")
            result = lock(args.dir, json.loads(args.releases), packages, uv_program())
        else:
            result = prune(args.root, args.keep)
    except CourseError as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

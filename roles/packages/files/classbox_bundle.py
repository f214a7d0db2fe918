#!/usr/bin/env python3
"""Build and check the offline bundle of a classroom box.

A bundle holds everything playbooks/site.yml installs, for one architecture:
the Debian packages with all their dependencies (a flat apt repository) and a
wheel for every pinned Python package. It is a directory and one tar archive
of it, to carry on a USB stick:

    classbox-bundle-<arch>/
        manifest.json   what it was built for (architecture, pins, packages)
        SHA256SUMS      a checksum of every other file
        debs/           *.deb and Packages, the index apt reads
        wheels/         *.whl

`build` runs on a connected Debian or Ubuntu machine (it uses apt-get with a
private state directory, so the machine's own apt is untouched, and pip's
download command). `check` runs where the playbook runs, before anything on
the box changes, and refuses a bundle that is damaged, incomplete, for another
architecture or for another version of the playbook. Both print one JSON
object; errors go to stderr as one sentence, with exit status 1.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

FORMAT = 1
# Debian architecture name -> the machine name pip's platform tags use.
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
# Debian 12's CPython and C library: what a wheel must fit.
PYTHON_VERSION = "3.11"
GLIBC_MINOR = 36
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class BundleError(Exception):
    """A refusal, phrased for the person who runs the playbook."""


def sha256_of(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def inputs_of(arch: str, requirements: Path, packages: list[str], local_wheels: Path | None) -> dict:
    """What a bundle is made from; two bundles with equal inputs hold the same software."""
    local = sorted(local_wheels.glob("*.whl")) if local_wheels else []
    return {
        "format": FORMAT,
        "arch": arch,
        "requirements_sha256": sha256_of(requirements),
        "debian_packages": sorted(set(packages)),
        "local_wheels": {wheel.name: sha256_of(wheel) for wheel in local},
    }


# --- build ---------------------------------------------------------------------


def pip_platforms(arch: str) -> list[str]:
    machine = MACHINES[arch]
    names = [f"manylinux_2_{minor}_{machine}" for minor in range(GLIBC_MINOR, 16, -1)]
    names.append(f"manylinux2014_{machine}")
    if machine == "x86_64":
        names += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return names + [f"linux_{machine}"]


def download_wheels(dest: Path, arch: str, requirements: Path, local_wheels: Path | None, index_url: str):
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-input", "--isolated",
               "--disable-pip-version-check", "--index-url", index_url,
               "--no-deps", "--only-binary=:all:", "--implementation", "cp", "--abi", "cp311",
               "--python-version", PYTHON_VERSION, "--requirement", str(requirements), "--dest", str(dest)]
    for platform in pip_platforms(arch):
        command += ["--platform", platform]
    if local_wheels:
        command += ["--find-links", str(local_wheels)]
    # --isolated ignores this machine's pip settings, but not its CA bundle
    # (a network with TLS inspection needs it).
    cert = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE")
    if cert:
        command += ["--cert", cert]
    run(command, "pip could not download the pinned wheels")


def download_debs(dest: Path, work: Path, arch: str, packages: list[str], mirror: str, security_mirror: str,
                  suite: str):
    """Every package in `packages` and all it depends on, as apt resolves them on an empty system."""
    if not shutil.which("apt-get"):
        raise BundleError("Building a bundle needs apt-get: run playbooks/bundle.yml on a Debian or Ubuntu machine.")
    if not Path(KEYRING).is_file():
        raise BundleError(f"Building a bundle needs Debian's archive keys ({KEYRING}): "
                          "install the package debian-archive-keyring.")
    etc = work / "etc"
    for sub in ("etc/apt.conf.d", "etc/preferences.d", "etc/sources.list.d", "lists/partial", "archives/partial"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    (work / "status").touch()
    sources = [f"deb [signed-by={KEYRING}] {mirror} {suite} main",
               f"deb [signed-by={KEYRING}] {mirror} {suite}-updates main",
               f"deb [signed-by={KEYRING}] {security_mirror} {suite}-security main"]
    (etc / "sources.list").write_text("\n".join(sources) + "\n")
    apt = ["apt-get", "-q",
           "-o", f"Dir::Etc={etc}", "-o", f"Dir::State={work}", "-o", f"Dir::State::Lists={work}/lists",
           "-o", f"Dir::State::status={work}/status", "-o", f"Dir::Cache={work}",
           "-o", f"Dir::Cache::archives={work}/archives",
           "-o", f"APT::Architecture={arch}", "-o", f"APT::Architectures::={arch}",
           "-o", "APT::Install-Recommends=false", "-o", "Debug::NoLocking=true"]
    run(apt + ["update"], "apt-get could not read Debian's package lists")
    run(apt + ["install", "--yes", "--download-only"] + sorted(set(packages)),
        "apt-get could not download the Debian packages")
    for deb in sorted((work / "archives").glob("*.deb")):
        shutil.move(str(deb), dest / deb.name)
    apt_cache = ["apt-cache" if word == "apt-get" else word for word in apt]
    write_packages_index(dest, apt_cache)


def write_packages_index(debs: Path, apt_cache: list[str]):
    """debs/Packages: each downloaded package's entry from Debian's signed lists.

    apt names a download <package>_<version>_<arch>.deb, the version's epoch
    colon quoted; each file takes its name in Debian's pool instead.
    """
    downloaded = {}
    for deb in debs.glob("*.deb"):
        package, version, _ = deb.name.replace("%3a", ":").split("_")
        downloaded[(package, version)] = deb
    shown = subprocess.run(apt_cache + ["show"] + [f"{p}={v}" for p, v in sorted(downloaded)],
                           stdout=subprocess.PIPE, text=True, check=True).stdout
    entries = {}
    for stanza in shown.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        key = (fields.get("Package"), fields.get("Version"))
        if key in downloaded and key not in entries:
            deb, pool_name = downloaded[key], PurePosixPath(fields["Filename"]).name
            if fields.get("SHA256") != sha256_of(deb):
                raise BundleError(f"{deb.name} does not match Debian's checksum")
            deb.rename(debs / pool_name)
            entries[key] = stanza.replace(f"Filename: {fields['Filename']}", f"Filename: ./{pool_name}").strip()
    missing = sorted(f"{p}={v}" for p, v in set(downloaded) - set(entries))
    if missing:
        raise BundleError(f"No Debian index entry for {', '.join(missing)}")
    (debs / "Packages").write_text("\n\n".join(entries[key] for key in sorted(entries)) + "\n")


def write_checksums(root: Path):
    lines = [f"{sha256_of(path)}  {path.relative_to(root).as_posix()}"
             for path in sorted(root.rglob("*")) if path.is_file() and path.name != "SHA256SUMS"]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def build(args) -> dict:
    arch = args.arch
    if arch not in MACHINES:
        raise BundleError(f"packages_bundle_arch must be one of {', '.join(MACHINES)}; got '{arch}'.")
    out = Path(args.out).resolve()
    name = f"classbox-bundle-{arch}"
    archive = out / f"{name}.tar"
    local_wheels = Path(args.local_wheels) if args.local_wheels else None
    inputs = inputs_of(arch, Path(args.requirements), args.package, local_wheels)
    if archive.exists() and not args.refresh:
        try:
            summary = check_archive(archive, arch, Path(args.requirements), args.package)
        except BundleError:
            summary = None
        if summary and summary["inputs"] == inputs:
            return dict(summary, changed=False)

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out) as temp:
        staging = Path(temp) / name
        for sub in ("debs", "wheels"):
            (staging / sub).mkdir(parents=True)
        download_wheels(staging / "wheels", arch, Path(args.requirements), local_wheels, args.index_url)
        download_debs(staging / "debs", Path(temp) / "apt", arch, args.package, args.mirror,
                      args.security_mirror, args.suite)
        manifest = dict(inputs, suite=args.suite, created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        write_checksums(staging)
        partial = Path(temp) / f"{name}.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(staging, arcname=name)
        shutil.rmtree(out / name, ignore_errors=True)
        staging.rename(out / name)
        partial.replace(archive)
    return dict(check_archive(archive, arch, Path(args.requirements), args.package), changed=True)


# --- check ---------------------------------------------------------------------


def safe_member_path(member: tarfile.TarInfo) -> PurePosixPath:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
        raise BundleError(f"The bundle holds '{member.name}', which is not a plain file inside it: "
                          "it was not made by playbooks/bundle.yml.")
    return path


def check_archive(archive: Path, box_arch: str, requirements: Path, packages: list[str]) -> dict:
    """Verify the whole archive; return its manifest and checksums, or raise BundleError."""
    if not archive.is_file():
        raise BundleError(f"packages_bundle is '{archive}', which is not a file on this machine.")
    try:
        tar = tarfile.open(archive, "r:")
    except (tarfile.TarError, OSError) as error:
        raise BundleError(f"{archive} is not a bundle archive (a tar file): {error}.") from None
    digests, blobs, top = {}, {}, set()
    with tar:
        try:
            for member in tar:
                path = safe_member_path(member)
                top.add(path.parts[0])
                if member.isfile():
                    inner = PurePosixPath(*path.parts[1:]).as_posix()
                    data = tar.extractfile(member)
                    digest = hashlib.sha256()
                    for block in iter(lambda: data.read(1 << 20), b""):
                        digest.update(block)
                        if inner in ("manifest.json", "SHA256SUMS"):
                            blobs[inner] = blobs.get(inner, b"") + block
                    digests[inner] = digest.hexdigest()
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BundleError(f"{archive} is damaged or cut short ({error}); copy it again.") from None
    if len(top) != 1:
        raise BundleError(f"{archive} holds {len(top)} top folders; a bundle has one.")
    for needed in ("manifest.json", "SHA256SUMS"):
        if needed not in blobs and needed not in digests:
            raise BundleError(f"{archive} has no {needed}: it is incomplete or not a bundle.")
    listed = {}
    for line in blobs.get("SHA256SUMS", b"").decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    missing = sorted(set(listed) - set(digests))
    if missing:
        raise BundleError(f"The bundle is incomplete: {len(missing)} file(s) missing, "
                          f"first {missing[0]}. Copy it again or build it again.")
    unlisted = sorted(set(digests) - set(listed) - {"SHA256SUMS"})
    if unlisted:
        raise BundleError(f"The bundle holds a file it does not list: {unlisted[0]}.")
    damaged = sorted(name for name, digest in listed.items() if digests[name] != digest)
    if damaged:
        raise BundleError(f"The bundle is damaged: {len(damaged)} file(s) do not match their checksum, "
                          f"first {damaged[0]}. Copy it again or build it again.")
    try:
        manifest = json.loads(blobs.get("manifest.json", b""))
    except ValueError:
        raise BundleError("The bundle's manifest.json is not JSON.") from None
    if manifest.get("format") != FORMAT:
        raise BundleError(f"The bundle's format is {manifest.get('format')}; this playbook reads format {FORMAT}. "
                          "Build it again with this playbook's playbooks/bundle.yml.")
    if manifest.get("arch") != box_arch:
        raise BundleError(f"The bundle is for {manifest.get('arch')}, but the box is {box_arch}: "
                          f"build one with playbooks/bundle.yml -e packages_bundle_arch={box_arch}.")
    if manifest.get("requirements_sha256") != sha256_of(requirements):
        raise BundleError("The bundle holds other versions of the hub's Python packages than this playbook pins: "
                          "build it again with this playbook's playbooks/bundle.yml.")
    absent = sorted(set(packages) - set(manifest.get("debian_packages", [])))
    if absent:
        raise BundleError(f"The bundle lacks the Debian package(s) {', '.join(absent)} that this run installs: "
                          "build it again with the same settings (playbooks/bundle.yml).")
    return {
        "archive": str(archive),
        "folder": top.pop(),
        "arch": manifest["arch"],
        "created": manifest.get("created"),
        "checksums_sha256": digests["SHA256SUMS"],
        "files": len(listed),
        "bytes": archive.stat().st_size,
        "inputs": {key: manifest.get(key) for key in ("format", "arch", "requirements_sha256",
                                                      "debian_packages", "local_wheels")},
    }


def check(args) -> dict:
    return check_archive(Path(args.archive), args.arch, Path(args.requirements), args.package)


def run(command: list[str], failure: str):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.strip().splitlines()[-15:])
        raise BundleError(f"{failure}:\n{tail}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("build", "check"):
        sub = commands.add_parser(name)
        sub.add_argument("--arch", required=True, help="amd64 or arm64 (the box's, for check)")
        sub.add_argument("--requirements", required=True, help="the hub's pinned requirements.txt")
        sub.add_argument("--package", action="append", default=[], help="a Debian package the box installs")
    build_parser, check_parser = commands.choices["build"], commands.choices["check"]
    build_parser.add_argument("--out", required=True, help="the folder that receives the bundle")
    build_parser.add_argument("--local-wheels", help="a folder of wheels PyPI does not have")
    build_parser.add_argument("--mirror", default="http://deb.debian.org/debian")
    build_parser.add_argument("--security-mirror", default="http://deb.debian.org/debian-security")
    build_parser.add_argument("--suite", default="bookworm")
    build_parser.add_argument("--index-url", default="https://pypi.org/simple")
    build_parser.add_argument("--refresh", action="store_true", help="build again even when up to date")
    check_parser.add_argument("archive", help="the bundle's .tar file")
    args = parser.parse_args(argv)
    try:
        result = build(args) if args.command == "build" else check(args)
    except BundleError as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build, check and unpack the offline bundle of a classroom box.

A bundle holds everything playbooks/site.yml installs, for one Debian release
and one architecture: the Debian packages with all their dependencies (a flat
apt repository) and a wheel for every pin of that release's Python locks (the hub's, the course's). It is
a directory and one tar archive of it, to carry on a USB stick:

    classbox-bundle-<suite>-<arch>/
        manifest.json   what it was built for (release, architecture, pins, packages)
        SHA256SUMS      a checksum of every other file (finds a damaged copy)
        debs/           *.deb and Packages, the index apt reads: Debian's own
                        entries of those packages
        index/<suite>/  InRelease, signed by Debian, and the Packages index
                        whose sha256 it lists (xz-compressed here), for
                        the suite, <suite>-updates and <suite>-security
        wheels/         *.whl

Nothing in the archive vouches for the rest of it: whoever can write the USB
stick can rewrite SHA256SUMS too. So `check` trusts only what it holds outside
the archive: Debian's archive keys (each .deb must match debs/Packages, and
each entry there must be the one in Debian's signed index) and the hashed
locks of the box's Python, the hub's
(roles/jupyterhub/files/requirements-python<X.Y>.txt) and the course's (next
to the inventory): each wheel's sha256 must be in one of them. It runs where
the playbook runs, before anything on the box changes, and reports the sha256 of the archive it read and of its
debs/Packages. `unpack` runs on the box with those two digests, which travel
in the play: it refuses a copy whose sha256 differs, then checks debs/Packages
and every .deb again before apt may read them. `build` runs on a connected
Debian or Ubuntu machine (apt-get with a private state directory, so the
machine's own apt is untouched, and pip's download command). The release's
facts (suite, Debian version, Python, glibc) come as arguments, from
classbox_debian_releases in playbooks/group_vars/all/box.yml: this file runs
with the standard library only.

Each prints one JSON object; errors go to stderr as one sentence, with exit
status 1.
"""

import argparse
import functools
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

FORMAT = 3
# Debian architecture name -> the machine name pip's platform tags use.
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Written by `unpack` next to the unpacked files: which archive they came from.
STAMP = "archive.sha256"
# Debian's biggest Packages index is about 50 MB: a bigger one is not Debian's.
INDEX_LIMIT = 256 * 1024 * 1024


class BundleError(Exception):
    """A refusal, phrased for the person who runs the playbook."""


def sha256_of(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def suites_of(suite: str) -> list[str]:
    return [suite, f"{suite}-updates", f"{suite}-security"]


# What the manifest says of the release a bundle is for (the keys of RELEASE_ARGUMENTS).
RELEASE_KEYS = ("suite", "debian", "python", "glibc")


def inputs_of(
    arch: str, requirements: list[Path], packages: list[str], local_wheels: Path | None, release: dict[str, str]
) -> dict:
    """What a bundle is made from; two bundles with equal inputs hold the same software.

    release: the Debian release's suite, debian (its version), python (X.Y) and glibc (2.N).
    """
    local = sorted(local_wheels.glob("*.whl")) if local_wheels else []
    return {
        "format": FORMAT,
        "arch": arch,
        **{key: release[key] for key in RELEASE_KEYS},
        "requirements_sha256": [sha256_of(lock) for lock in requirements],
        "debian_packages": sorted(set(packages)),
        "local_wheels": {wheel.name: sha256_of(wheel) for wheel in local},
    }


# --- the locks -----------------------------------------------------------------


def project_key(name: str) -> str:
    """A project's name as PyPI compares them (Jinja2, jinja2 and jinja-2 are one)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(requirements: Path) -> dict[str, tuple[str, set[str]]]:
    """The pins of a requirements file: project key -> (version, sha256 hashes)."""
    pins = {}
    for line in requirements.read_text().replace("\\\n", " ").splitlines():
        words = line.split("#", 1)[0].split()
        if words and "==" in words[0]:
            name, _, version = words[0].partition("==")
            hashes = {word.removeprefix("--hash=sha256:") for word in words[1:] if word.startswith("--hash=sha256:")}
            pins[project_key(name)] = (version, hashes)
    return pins


def check_wheels(wheels: dict[str, str], requirements: list[Path]):
    """Every wheel (file name -> sha256) must be one a lock allows (the hub's, the course's),
    and every pin of each lock must have one."""
    locks = {path: read_lock(path) for path in requirements}
    allowed: dict[str, set[str]] = {}
    for path, lock in locks.items():
        unhashed = sorted(key for key, (_, hashes) in lock.items() if not hashes)
        if unhashed:
            raise BundleError(f"The lock {path} has no hashes for {unhashed[0]}: generate it again.")
        for key, (_, hashes) in lock.items():
            allowed.setdefault(key, set()).update(hashes)
    for name, digest in sorted(wheels.items()):
        if digest not in allowed.get(project_key(name.split("-", 1)[0]), set()):
            raise BundleError(
                f"The bundle's wheels/{name} is not a file that the locks "
                f"({', '.join(path.name for path in requirements)}) allow: the bundle was changed after it "
                "was built. Build it again with playbooks/bundle.yml, on a machine you trust."
            )
    held = set(wheels.values())
    for path, lock in locks.items():
        absent = sorted(f"{key}=={version}" for key, (version, hashes) in lock.items() if not hashes & held)
        if absent:
            raise BundleError(
                f"The bundle has no wheel of {absent[0]}, which {path.name} pins: "
                "build it again with playbooks/bundle.yml."
            )


# --- Debian's package indexes -------------------------------------------------


def fields_of(stanza: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")


def index_stanzas(text: str, names: set[str] | None = None) -> list[str]:
    """The entries of a Packages file (of the packages in `names` only, if given: Debian's lists are long)."""
    stanzas = (stanza.strip("\n") for stanza in text.split("\n\n"))
    return [
        stanza
        for stanza in stanzas
        if stanza and (names is None or stanza.partition("\n")[0].removeprefix("Package: ") in names)
    ]


def local_entry(stanza: str) -> str:
    """A Debian index entry as the bundle's flat repository lists it: the file next to the index."""
    return re.sub(r"^Filename: (?:.*/)?", "Filename: ./", stanza, count=1, flags=re.MULTILINE)


def check_debs_against_index(packages: str, digest_of) -> list[dict[str, str]]:
    """Every file debs/Packages lists must have its sha256 there; digest_of(name) -> sha256 or None."""
    entries = [fields_of(stanza) for stanza in index_stanzas(packages)]
    for fields in entries:
        name = fields.get("Filename", "").removeprefix("./")
        if not name.endswith(".deb") or "/" in name:
            raise BundleError(
                f"The bundle's index debs/Packages lists '{fields.get('Filename')}', "
                "which is not a package next to it: it was not made by playbooks/bundle.yml."
            )
        if digest_of(name) != fields.get("SHA256"):
            raise BundleError(
                f"The bundle's debs/{name} is not the package its index debs/Packages lists: "
                "the bundle was changed after it was built. Build it again with "
                "playbooks/bundle.yml, on a machine you trust."
            )
    return entries


def verified_release(inrelease: bytes | None, suite: str, keyring: str) -> dict[str, str]:
    """The Release file that Debian signed, read from gpgv's output (never from the unsigned text)."""
    if inrelease is None:
        raise BundleError(
            f"The bundle has no index/{suite}/InRelease (Debian's signed index): "
            "it is incomplete or was made by an older playbooks/bundle.yml; build it again."
        )
    # one signed message only, as apt demands: gpgv would vouch for any of several
    if inrelease.count(b"-----BEGIN PGP SIGNED MESSAGE-----") != 1:
        inrelease = b""
    with tempfile.TemporaryDirectory(prefix="classbox-gpgv-") as temp:
        signed, content = Path(temp) / "InRelease", Path(temp) / "Release"
        signed.write_bytes(inrelease)
        result = subprocess.run(
            ["gpgv", "--status-fd", "1", "--keyring", keyring, "--output", str(content), str(signed)],
            capture_output=True,
            text=True,
        )
        status = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("[GNUPG:] ")]
        # As apt: one good signature by a key we hold is enough (Debian signs with
        # several keys, and a keyring may lack an old or a new one); a bad one is not.
        if "GOODSIG" not in status or "BADSIG" in status or not content.is_file():
            reason = (result.stderr.strip().splitlines() or ["no signature"])[-1]
            raise BundleError(
                f"The bundle's index/{suite}/InRelease is not signed with Debian's archive keys "
                f"({reason}): the bundle was changed after it was built. Build it again with "
                "playbooks/bundle.yml, on a machine you trust."
            )
        release = content.read_text()
    fields = fields_of(release)
    if fields.get("Codename") != suite:
        raise BundleError(
            f"The bundle's index/{suite}/InRelease is Debian's index of {fields.get('Codename')}, "
            f"not of {suite}: build the bundle again with playbooks/bundle.yml."
        )
    sums = release.partition("\nSHA256:\n")[2]
    digests = {}
    for line in sums.splitlines():
        if not line.startswith(" "):
            break
        digest, _, path = line.split()
        digests[path] = digest
    return digests


def signed_entries(blobs: dict[str, bytes], suites: list[str], arch: str, names: set[str], keyring: str) -> set[str]:
    """Debian's entries of the packages `names`, from the indexes Debian signed, as the bundle lists them."""
    if not shutil.which("gpgv") or not Path(keyring).is_file():
        raise BundleError(
            f"Checking the bundle's Debian packages needs gpgv and Debian's archive keys ({keyring}) "
            "on this machine: install the packages gpgv and debian-archive-keyring."
        )
    entries = set()
    for suite in suites:
        listed = verified_release(blobs.get(f"index/{suite}/InRelease"), suite, keyring)
        path = f"main/binary-{arch}/Packages"
        text = uncompressed(blobs.get(f"index/{suite}/{path}.xz"))
        if text is None or hashlib.sha256(text).hexdigest() != listed.get(path):
            raise BundleError(
                f"The bundle's index/{suite}/{path}.xz is not the index Debian signed: "
                "the bundle was changed after it was built. Build it again with "
                "playbooks/bundle.yml, on a machine you trust."
            )
        entries.update(local_entry(stanza) for stanza in index_stanzas(text.decode(), names))
    return entries


def uncompressed(data: bytes | None) -> bytes | None:
    """An xz file's content, or None when it is not a whole xz file of a sensible size."""
    try:
        decompressor = lzma.LZMADecompressor(lzma.FORMAT_XZ)
        text = decompressor.decompress(data or b"", max_length=INDEX_LIMIT)
    except lzma.LZMAError:
        return None
    return text if decompressor.eof else None


def check_debs(blobs: dict[str, bytes], digests: dict[str, str], suites: list[str], arch: str, keyring: str):
    packages = blobs["debs/Packages"].decode("utf-8", "replace")
    entries = check_debs_against_index(packages, lambda name: digests.get(f"debs/{name}"))
    listed = {f"debs/{fields['Filename'].removeprefix('./')}" for fields in entries}
    unlisted = sorted(name for name in digests if name.endswith(".deb") and name not in listed)
    if unlisted:
        raise BundleError(f"The bundle holds a Debian package its index debs/Packages does not list: {unlisted[0]}.")
    debian = signed_entries(blobs, suites, arch, {fields.get("Package") for fields in entries}, keyring)
    for stanza in index_stanzas(packages):
        if stanza not in debian:
            fields = fields_of(stanza)
            raise BundleError(
                f"The bundle's index debs/Packages lists {fields.get('Package')} "
                f"{fields.get('Version')} otherwise than Debian's signed index: the bundle was "
                "changed after it was built. Build it again with playbooks/bundle.yml, "
                "on a machine you trust."
            )


# --- build ---------------------------------------------------------------------


def glibc_minor(glibc: str) -> int:
    """2.36 -> 36."""
    major, _, minor = glibc.partition(".")
    if major != "2" or not minor.isdigit():
        raise BundleError(f"glibc must be a version 2.N, like 2.36; got '{glibc}'.")
    return int(minor)


def pip_platforms(arch: str, glibc_minor: int) -> list[str]:
    """The platform tags of the wheels that fit a glibc 2.<glibc_minor> on `arch`, best first."""
    machine = MACHINES[arch]
    names = [f"manylinux_2_{minor}_{machine}" for minor in range(glibc_minor, 16, -1)]
    names.append(f"manylinux2014_{machine}")
    if machine == "x86_64":
        names += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    return names + [f"linux_{machine}"]


def download_wheels(
    dest: Path, arch: str, release: dict[str, str], requirements: list[Path], local_wheels: Path | None, index_url: str
):
    # One pip per lock (the hub's and the course's may pin one package at two
    # versions). Its hashes put pip in hash-checking mode: it refuses a download
    # the lock does not list.
    for lock in requirements:
        download_wheels_of(dest, arch, release, lock, local_wheels, index_url)


def download_wheels_of(
    dest: Path, arch: str, release: dict[str, str], requirements: Path, local_wheels: Path | None, index_url: str
):
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-input",
        "--isolated",
        "--disable-pip-version-check",
        "--index-url",
        index_url,
        "--require-hashes",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--abi",
        "cp" + release["python"].replace(".", ""),
        "--python-version",
        release["python"],
        "--requirement",
        str(requirements),
        "--dest",
        str(dest),
    ]
    for platform in pip_platforms(arch, glibc_minor(release["glibc"])):
        command += ["--platform", platform]
    if local_wheels:
        command += ["--find-links", str(local_wheels)]
    # --isolated ignores this machine's pip settings, but not its CA bundle
    # (a network with TLS inspection needs it).
    cert = os.environ.get("PIP_CERT") or os.environ.get("REQUESTS_CA_BUNDLE")
    if cert:
        command += ["--cert", cert]
    run(command, "pip could not download the pinned wheels")


def download_debs(
    dest: Path, index: Path, work: Path, arch: str, packages: list[str], mirror: str, security_mirror: str, suite: str
):
    """Every package in `packages` and all it depends on, as apt resolves them on an empty system,
    and Debian's signed indexes they come from."""
    if not shutil.which("apt-get"):
        raise BundleError("Building a bundle needs apt-get: run playbooks/bundle.yml on a Debian or Ubuntu machine.")
    if not Path(KEYRING).is_file():
        raise BundleError(
            f"Building a bundle needs Debian's archive keys ({KEYRING}): install the package debian-archive-keyring."
        )
    etc = work / "etc"
    for sub in ("etc/apt.conf.d", "etc/preferences.d", "etc/sources.list.d", "lists/partial", "archives/partial"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    (work / "status").touch()
    main, updates, security = suites_of(suite)
    sources = [
        f"deb [signed-by={KEYRING}] {mirror} {main} main",
        f"deb [signed-by={KEYRING}] {mirror} {updates} main",
        f"deb [signed-by={KEYRING}] {security_mirror} {security} main",
    ]
    (etc / "sources.list").write_text("\n".join(sources) + "\n")
    apt = [
        "apt-get",
        "-q",
        "-o",
        f"Dir::Etc={etc}",
        "-o",
        f"Dir::State={work}",
        "-o",
        f"Dir::State::Lists={work}/lists",
        "-o",
        f"Dir::State::status={work}/status",
        "-o",
        f"Dir::Cache={work}",
        "-o",
        f"Dir::Cache::archives={work}/archives",
        "-o",
        f"APT::Architecture={arch}",
        "-o",
        f"APT::Architectures::={arch}",
        "-o",
        "APT::Install-Recommends=false",
        "-o",
        "Debug::NoLocking=true",
        # Each index kept uncompressed, as Debian's Release lists its sha256
        # (whatever this machine's apt.conf.d says); no translations.
        "-o",
        "Acquire::GzipIndexes=false",
        "-o",
        "Acquire::Languages=none",
    ]
    run(apt + ["update"], "apt-get could not read Debian's package lists")
    run(
        apt + ["install", "--yes", "--download-only"] + sorted(set(packages)),
        "apt-get could not download the Debian packages",
    )
    for name in suites_of(suite):
        folder = index / name / "main" / f"binary-{arch}"
        folder.mkdir(parents=True)
        inrelease, packages_index = (
            lists_file(work / "lists", f"_dists_{name}_{end}") for end in ("InRelease", f"main_binary-{arch}_Packages")
        )
        shutil.copyfile(inrelease, index / name / "InRelease")
        # preset 1: a quarter of the size in seconds (6 takes ten times longer for 20% less)
        (folder / "Packages.xz").write_bytes(lzma.compress(packages_index.read_bytes(), preset=1))
    for deb in sorted((work / "archives").glob("*.deb")):
        shutil.move(str(deb), dest / deb.name)
    write_packages_index(dest, index, arch, suite)


def lists_file(lists: Path, suffix: str) -> Path:
    found = sorted(lists.glob(f"*{suffix}"))
    if len(found) != 1:
        raise BundleError(f"apt-get did not keep Debian's index as expected: {len(found)} file(s) *{suffix}.")
    return found[0]


def write_packages_index(debs: Path, index: Path, arch: str, suite: str):
    """debs/Packages: each downloaded package's entry from Debian's signed indexes.

    apt names a download <package>_<version>_<arch>.deb, the version's epoch
    colon quoted; each file takes its name in Debian's pool instead.
    """
    downloaded = {}
    for deb in debs.glob("*.deb"):
        package, version, _ = deb.name.replace("%3a", ":").split("_")
        downloaded[(package, version)] = deb
    entries = {}
    for name in suites_of(suite):
        text = lzma.decompress((index / name / "main" / f"binary-{arch}" / "Packages.xz").read_bytes()).decode()
        for stanza in index_stanzas(text, {package for package, _ in downloaded}):
            fields = fields_of(stanza)
            key = (fields.get("Package"), fields.get("Version"))
            if key in downloaded and key not in entries:
                deb, pool_name = downloaded[key], PurePosixPath(fields["Filename"]).name
                if fields.get("SHA256") != sha256_of(deb):
                    raise BundleError(f"{deb.name} does not match Debian's checksum")
                deb.rename(debs / pool_name)
                entries[key] = local_entry(stanza)
    missing = sorted(f"{p}={v}" for p, v in set(downloaded) - set(entries))
    if missing:
        raise BundleError(f"No Debian index entry for {', '.join(missing)}")
    (debs / "Packages").write_text("\n\n".join(entries[key] for key in sorted(entries)) + "\n")


def write_checksums(root: Path):
    lines = [
        f"{sha256_of(path)}  {path.relative_to(root).as_posix()}"
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "SHA256SUMS"
    ]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def build(args) -> dict:
    arch = args.arch
    if arch not in MACHINES:
        raise BundleError(f"packages_bundle_arch must be one of {', '.join(MACHINES)}; got '{arch}'.")
    out = Path(args.out).resolve()
    release = release_of(args)
    name = bundle_name(release["suite"], arch)
    archive = out / f"{name}.tar"
    requirements = [Path(lock) for lock in args.requirements]
    local_wheels = Path(args.local_wheels) if args.local_wheels else None
    inputs = inputs_of(arch, requirements, args.package, local_wheels, release)
    box = {"suite": release["suite"], "debian": release["debian"]}
    if archive.exists() and not args.refresh:
        try:
            summary = check_archive(archive, arch, requirements, args.package, args.keyring, **box)
        except BundleError:
            summary = None
        if summary and summary["inputs"] == inputs:
            return dict(summary, changed=False)

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out) as temp:
        staging = Path(temp) / name
        for sub in ("debs", "index", "wheels"):
            (staging / sub).mkdir(parents=True)
        download_wheels(staging / "wheels", arch, release, requirements, local_wheels, args.index_url)
        download_debs(
            staging / "debs",
            staging / "index",
            Path(temp) / "apt",
            arch,
            args.package,
            args.mirror,
            args.security_mirror,
            release["suite"],
        )
        manifest = dict(inputs, created=datetime.now(UTC).isoformat(timespec="seconds"))
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        write_checksums(staging)
        partial = Path(temp) / f"{name}.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(staging, arcname=name)
        shutil.rmtree(out / name, ignore_errors=True)
        staging.rename(out / name)
        partial.replace(archive)
    return dict(check_archive(archive, arch, requirements, args.package, args.keyring, **box), changed=True)


def bundle_name(suite: str, arch: str) -> str:
    """The bundle's folder, and its archive's name without .tar."""
    return f"classbox-bundle-{suite}-{arch}"


def release_of(args) -> dict[str, str]:
    """The release a bundle is built for, from the command line (RELEASE_KEYS)."""
    release = {"suite": args.suite, "debian": args.debian, "python": args.python_version, "glibc": args.glibc}
    if not re.fullmatch(r"3\.\d+", release["python"]):
        raise BundleError(f"--python-version must be a version 3.N, like 3.13; got '{release['python']}'.")
    glibc_minor(release["glibc"])
    return release


# --- check (where the playbook runs) -------------------------------------------


class HashingReader:
    """A file read once, front to back, hashed on the way: the digest is of the very bytes checked."""

    def __init__(self, stream):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, size=-1) -> bytes:
        data = self.stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def safe_member_path(member: tarfile.TarInfo) -> PurePosixPath:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
        raise BundleError(
            f"The bundle holds '{member.name}', which is not a plain file inside it: "
            "it was not made by playbooks/bundle.yml."
        )
    return path


def kept_whole(inner: str) -> bool:
    """The files whose content the check reads, besides hashing them."""
    return inner in ("manifest.json", "SHA256SUMS", "debs/Packages") or inner.startswith("index/")


def read_archive(archive: Path) -> tuple[dict[str, str], dict[str, bytes], set[str], HashingReader]:
    """Every file's sha256 (path inside the top folder -> digest), the files kept whole, the top folders."""
    if not archive.is_file():
        raise BundleError(f"packages_bundle is '{archive}', which is not a file on this machine.")
    digests, blobs, top = {}, {}, set()
    with open(archive, "rb") as stream:
        reader = HashingReader(stream)
        try:
            tar = tarfile.open(fileobj=reader, mode="r|")
        except (tarfile.TarError, OSError) as error:
            raise BundleError(f"{archive} is not a bundle archive (a tar file): {error}.") from None
        with tar:
            try:
                for member in tar:
                    path = safe_member_path(member)
                    top.add(path.parts[0])
                    if member.isfile():
                        inner = PurePosixPath(*path.parts[1:]).as_posix()
                        data, digest, whole = tar.extractfile(member), hashlib.sha256(), []
                        for block in iter(functools.partial(data.read, 1 << 20), b""):
                            digest.update(block)
                            if kept_whole(inner):
                                whole.append(block)
                        digests[inner] = digest.hexdigest()
                        if kept_whole(inner):
                            blobs[inner] = b"".join(whole)
                # the archive's end (zero blocks) belongs to its sha256 too
                while reader.read(1 << 20):
                    pass
            except (tarfile.TarError, OSError, EOFError) as error:
                raise BundleError(f"{archive} is damaged or cut short ({error}); copy it again.") from None
    return digests, blobs, top, reader


def check_archive(
    archive: Path,
    box_arch: str,
    requirements: list[Path],
    packages: list[str],
    keyring: str = KEYRING,
    *,
    suite: str,
    debian: str,
) -> dict:
    """Verify the whole archive for a box of `box_arch` running Debian `debian` (`suite`);
    return its manifest and digests, or raise BundleError."""
    digests, blobs, top, read = read_archive(archive)
    if len(top) != 1:
        raise BundleError(f"{archive} holds {len(top)} top folders; a bundle has one.")
    for needed in ("manifest.json", "SHA256SUMS"):
        if needed not in blobs:
            raise BundleError(f"{archive} has no {needed}: it is incomplete or not a bundle.")
    # SHA256SUMS comes with the files it lists: it finds a copy cut short or
    # damaged, and proves nothing about who made them (see check_debs, check_wheels).
    listed = {}
    for line in blobs["SHA256SUMS"].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    missing = sorted(set(listed) - set(digests))
    if missing:
        raise BundleError(
            f"The bundle is incomplete: {len(missing)} file(s) missing, "
            f"first {missing[0]}. Copy it again or build it again."
        )
    unlisted = sorted(set(digests) - set(listed) - {"SHA256SUMS"})
    if unlisted:
        raise BundleError(f"The bundle holds a file it does not list: {unlisted[0]}.")
    damaged = sorted(name for name, digest in listed.items() if digests[name] != digest)
    if damaged:
        raise BundleError(
            f"The bundle is damaged: {len(damaged)} file(s) do not match their checksum, "
            f"first {damaged[0]}. Copy it again or build it again."
        )
    try:
        manifest = json.loads(blobs["manifest.json"])
    except ValueError:
        raise BundleError("The bundle's manifest.json is not JSON.") from None
    if manifest.get("format") != FORMAT:
        raise BundleError(
            f"The bundle's format is {manifest.get('format')}; this playbook reads format {FORMAT}. "
            "Build it again with this playbook's playbooks/bundle.yml."
        )
    if manifest.get("arch") != box_arch:
        raise BundleError(
            f"The bundle is for {manifest.get('arch')}, but the box is {box_arch}: "
            f"build one with playbooks/bundle.yml -e packages_bundle_arch={box_arch}."
        )
    if manifest.get("suite") != suite:
        raise BundleError(
            f"The bundle is for Debian {manifest.get('debian')} ({manifest.get('suite')}), but the box runs "
            f"Debian {debian} ({suite}): build one with playbooks/bundle.yml -e packages_bundle_release={suite}."
        )
    if manifest.get("requirements_sha256") != [sha256_of(lock) for lock in requirements]:
        raise BundleError(
            "The bundle holds other versions of the Python packages than this playbook pins "
            "(the hub's, or the course's course_packages): build it again with this playbook's playbooks/bundle.yml."
        )
    absent = sorted(set(packages) - set(manifest.get("debian_packages", [])))
    if absent:
        raise BundleError(
            f"The bundle lacks the Debian package(s) {', '.join(absent)} that this run installs: "
            "build it again with the same settings (playbooks/bundle.yml)."
        )
    if "debs/Packages" not in blobs:
        raise BundleError(f"{archive} has no debs/Packages: it is incomplete or not a bundle.")
    check_wheels(
        {
            name.removeprefix("wheels/"): digest
            for name, digest in digests.items()
            if name.startswith("wheels/") and name.endswith(".whl")
        },
        requirements,
    )
    check_debs(blobs, digests, suites_of(suite), box_arch, keyring)
    return {
        "archive": str(archive),
        "sha256": read.digest.hexdigest(),
        "packages_sha256": digests["debs/Packages"],
        "folder": top.pop(),
        "arch": manifest["arch"],
        "suite": manifest["suite"],
        "created": manifest.get("created"),
        "files": len(listed),
        "bytes": read.size,
        "inputs": {
            key: manifest.get(key)
            for key in ("format", "arch", *RELEASE_KEYS, "requirements_sha256", "debian_packages", "local_wheels")
        },
    }


def check(args) -> dict:
    return check_archive(
        Path(args.archive),
        args.arch,
        [Path(lock) for lock in args.requirements],
        args.package,
        args.keyring,
        suite=args.suite,
        debian=args.debian,
    )


# --- unpack (on the box) -------------------------------------------------------


def unpack(archive: Path, dest: Path, sha256: str, packages_sha256: str) -> dict:
    """Unpack the copy of the archive checked at the start into `dest`, or refuse it.

    The two digests come from the check, through the play: nothing in the
    archive can change them.
    """
    if sha256_of(archive) != sha256:
        raise BundleError(
            f"The bundle copied to the box ({archive}) is not the archive checked at the start "
            f"(sha256 {sha256}): it changed during the run. Check where it comes from, then run "
            "the playbook again."
        )
    new = dest.with_name(dest.name + ".new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(mode=0o755)
    with tarfile.open(archive, "r:") as tar:
        for member in tar:
            inner = safe_member_path(member).parts[1:]
            if not inner:
                continue
            target = new.joinpath(*inner)
            if member.isdir():
                target.mkdir(mode=0o755, parents=True, exist_ok=True)
                continue
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(target, "wb") as copy:
                shutil.copyfileobj(source, copy)
    debs = new / "debs"
    if sha256_of(debs / "Packages") != packages_sha256:
        raise BundleError(
            "The bundle's index debs/Packages on the box is not the one checked at the start: "
            "it changed during the run. Check where the bundle comes from, then run the playbook "
            "again."
        )
    check_debs_against_index(
        (debs / "Packages").read_text(), lambda name: sha256_of(debs / name) if (debs / name).is_file() else None
    )
    (new / STAMP).write_text(sha256 + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    new.rename(dest)
    archive.unlink()
    return {"changed": True, "bundle": str(dest), "sha256": sha256}


# --- command line --------------------------------------------------------------


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
        sub.add_argument(
            "--requirements",
            action="append",
            required=True,
            help="a hashed lock of the release's Python: the hub's, then the course's",
        )
        sub.add_argument("--package", action="append", default=[], help="a Debian package the box installs")
        sub.add_argument(
            "--suite", required=True, help="the Debian release's codename, like trixie (the box's, for check)"
        )
        sub.add_argument("--debian", required=True, help="the Debian release's version, like 13")
        sub.add_argument("--keyring", default=KEYRING, help="Debian's archive keys")
    build_parser, check_parser = commands.choices["build"], commands.choices["check"]
    build_parser.add_argument("--out", required=True, help="the folder that receives the bundle")
    build_parser.add_argument("--python-version", required=True, help="the release's Python, like 3.13")
    build_parser.add_argument("--glibc", required=True, help="the release's C library version, like 2.41")
    build_parser.add_argument("--local-wheels", help="a folder of wheels PyPI does not have")
    build_parser.add_argument("--mirror", default="http://deb.debian.org/debian")
    build_parser.add_argument("--security-mirror", default="http://deb.debian.org/debian-security")
    build_parser.add_argument("--index-url", default="https://pypi.org/simple")
    build_parser.add_argument("--refresh", action="store_true", help="build again even when up to date")
    check_parser.add_argument("archive", help="the bundle's .tar file")
    unpack_parser = commands.add_parser("unpack")
    unpack_parser.add_argument("--sha256", required=True, help="the archive's sha256, as the check reported it")
    unpack_parser.add_argument(
        "--packages-sha256", required=True, help="debs/Packages' sha256, as the check reported it"
    )
    unpack_parser.add_argument("archive", help="the copy of the bundle's .tar file on the box")
    unpack_parser.add_argument("dest", help="the folder that receives the unpacked bundle")
    args = parser.parse_args(argv)
    try:
        if args.command == "unpack":
            result = unpack(Path(args.archive), Path(args.dest), args.sha256, args.packages_sha256)
        else:
            result = build(args) if args.command == "build" else check(args)
    except BundleError as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

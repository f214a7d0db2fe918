"""Small bundles laid out as playbooks/bundle.yml makes them, for the tests of
the bundle's checks (unit tests, and the playbook's preflight on a real box).

Debian's signature is played by a throwaway GnuPG key (make_signer): the
checks take its public key in place of Debian's archive keys."""

import hashlib
import json
import lzma
import subprocess
import tarfile
from pathlib import Path

from classbox import bundle as classbox_bundle

# The release facts build takes (classbox_debian_releases in playbooks/group_vars/all/box.yml).
BOOKWORM = {"suite": "bookworm", "debian": "12", "python": "3.11", "glibc": "2.36"}
TRIXIE = {"suite": "trixie", "debian": "13", "python": "3.13", "glibc": "2.41"}
HUB_WHEEL = ("jupyterhub-5.5.4-py3-none-any.whl", b"hub wheel")
# name, version, the .deb's content; nginx is in both the release and its security updates
DEBS = [("nginx", "1.22.1-9", b"nginx package"), ("dnsmasq", "2.89-1", b"dnsmasq package")]


def hashed_lock(path: Path, extra_hashes: tuple[str, ...] = ()) -> Path:
    """A lock that pins jupyterhub to the fake bundle's wheel, as `make pins` writes one."""
    hashes = [hashlib.sha256(HUB_WHEEL[1]).hexdigest(), *extra_hashes]
    path.write_text(
        "jupyterhub==5.5.4 \\\n"
        + " \\\n".join(f"    --hash=sha256:{h}" for h in hashes)
        + "\n    # via -r requirements.in\n"
    )
    return path


def make_signer(folder: Path) -> tuple[Path, Path]:
    """A new signing key: (GnuPG home with its secret key, keyring file with its public key)."""
    home = folder / "gnupg"
    home.mkdir(mode=0o700, parents=True)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--quiet"]
    subprocess.run(
        gpg + ["--passphrase", "", "--quick-gen-key", "Not Debian <test@classbox.invalid>", "ed25519", "sign", "never"],
        check=True,
    )
    keyring = folder / "keyring.gpg"
    keyring.write_bytes(subprocess.run(gpg + ["--export"], check=True, stdout=subprocess.PIPE).stdout)
    return home, keyring


def forget_signer(home: Path):
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


def sign(text: str, home: Path | None) -> bytes:
    """An InRelease file: clear-signed by the key in `home`, or not signed at all."""
    if home is None:
        return text.encode()
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--quiet", "--clearsign"],
        input=text.encode(),
        check=True,
        stdout=subprocess.PIPE,
    ).stdout


def debian_entry(package: str, version: str, arch: str, data: bytes) -> str:
    return (
        f"Package: {package}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: Debian\n"
        f"Filename: pool/main/{package[0]}/{package}/{package}_{version}_{arch}.deb\n"
        f"Size: {len(data)}\nSHA256: {hashlib.sha256(data).hexdigest()}\nDescription: {package}"
    )


def write_debian_index(index: Path, suite: str, arch: str, stanzas: list[str], signer: Path | None):
    """Debian's index of one suite: Packages (xz-compressed), and the InRelease that lists its sha256."""
    path = f"main/binary-{arch}/Packages"
    data = ("\n\n".join(stanzas) + "\n").encode()
    (index / suite / path).parent.mkdir(parents=True, exist_ok=True)
    (index / suite / f"{path}.xz").write_bytes(lzma.compress(data))
    release = (
        f"Origin: Debian\nCodename: {suite}\nArchitectures: {arch}\nComponents: main\n"
        f"SHA256:\n {hashlib.sha256(data).hexdigest()} {len(data)} {path}\n"
    )
    (index / suite / "InRelease").write_bytes(sign(release, signer))


def make_bundle(
    out: Path,
    requirements: list[Path],
    packages: list[str],
    arch="amd64",
    local_wheels=None,
    tweak=None,
    signer: Path | None = None,
    release: dict[str, str] = BOOKWORM,
) -> Path:
    """A bundle with a few small files; tweak(folder) may change it after its checksums are written.

    signer: the GnuPG home whose key signs the Debian indexes (make_signer); without one they are unsigned.
    release: the Debian release it is for (BOOKWORM, TRIXIE).
    """
    folder = out / classbox_bundle.bundle_name(release["suite"], arch)
    (folder / "debs").mkdir(parents=True)
    (folder / "wheels").mkdir()
    entries = {package: debian_entry(package, version, arch, data) for package, version, data in DEBS}
    for package, version, data in DEBS:
        (folder / "debs" / f"{package}_{version}_{arch}.deb").write_bytes(data)
    (folder / "debs" / "Packages").write_text(
        "\n\n".join(classbox_bundle.local_entry(entries[p]) for p in sorted(entries)) + "\n"
    )
    other = debian_entry("vim", "2:9.0.1378-2", arch, b"vim package")
    main, updates, security = classbox_bundle.suites_of(release["suite"])
    write_debian_index(folder / "index", main, arch, [entries["dnsmasq"], other], signer)
    write_debian_index(folder / "index", updates, arch, [], signer)
    write_debian_index(folder / "index", security, arch, [entries["nginx"]], signer)
    (folder / "wheels" / HUB_WHEEL[0]).write_bytes(HUB_WHEEL[1])
    manifest = classbox_bundle.inputs_of(arch, requirements, packages, local_wheels, release)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    classbox_bundle.write_checksums(folder)
    if tweak:
        tweak(folder)
    return pack(out, folder)


def pack(out: Path, folder: Path) -> Path:
    archive = out / f"{folder.name}.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname=folder.name)
    return archive

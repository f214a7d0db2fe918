"""The offline bundle's checks (classbox/bundle.py).

The bundles here are small but made the way `build` makes them (manifest,
SHA256SUMS, one top folder, Debian's signed indexes, a hashed lock), real
files in a real tar; a throwaway GnuPG key stands in for Debian's archive key.
Building a real one needs the network and is covered by the offline molecule
scenario.
"""

import hashlib
import io
import lzma
import shutil
import tarfile
from argparse import Namespace
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from classbox import bundle
from classbox.wheels import pythons, releases
from tests import fake_bundle

PACKAGES = ["nginx", "dnsmasq"]
ROOT = Path(__file__).resolve().parents[2]
NGINX_DEB = "nginx_1.22.1-9_amd64.deb"
# The box the checks are for: Debian 12, as the fake bundles (fake_bundle.BOOKWORM).
BOX = {"suite": "bookworm", "debian": "12"}
FOLDER = "classbox-bundle-bookworm-amd64"


@pytest.fixture(scope="session")
def signer(tmp_path_factory):
    """A signing key standing in for Debian's: (its GnuPG home, the keyring the checks trust)."""
    if not (shutil.which("gpg") and shutil.which("gpgv")):
        pytest.skip("needs gpg and gpgv (Debian package gpg)")
    home, keyring = fake_bundle.make_signer(tmp_path_factory.mktemp("debian-key"))
    yield home, keyring
    fake_bundle.forget_signer(home)


@pytest.fixture
def keyring(signer):
    return str(signer[1])


@pytest.fixture
def requirements(tmp_path):
    return [fake_bundle.hashed_lock(tmp_path / "requirements.txt")]


@pytest.fixture
def local_wheels(tmp_path):
    folder = tmp_path / "local-wheels"
    folder.mkdir()
    (folder / "onetimepass-1.0.1-py3-none-any.whl").write_bytes(b"local wheel")
    return folder


@pytest.fixture
def make_bundle(tmp_path, requirements, local_wheels, signer):
    def make(arch="amd64", tweak=None, out=tmp_path, release=fake_bundle.BOOKWORM):
        return fake_bundle.make_bundle(
            out, requirements, PACKAGES, arch, local_wheels, tweak, signer=signer[0], release=release
        )

    return make


def refusal(archive, requirements, keyring, arch="amd64", packages=PACKAGES) -> str:
    with pytest.raises(bundle.BundleError) as raised:
        bundle.check_archive(archive, arch, requirements, packages, keyring, **BOX)
    return str(raised.value)


def test_an_intact_bundle_passes_and_is_described(tmp_path, make_bundle, requirements, keyring):
    archive = make_bundle()
    summary = bundle.check_archive(archive, "amd64", requirements, PACKAGES, keyring, **BOX)
    folder = tmp_path / FOLDER
    assert summary["arch"] == "amd64"
    assert summary["folder"] == FOLDER
    assert summary["suite"] == "bookworm"
    assert summary["files"] == 11  # two packages and their index, three suites' signed indexes, a wheel, the manifest
    # the digests the box checks after the copy: of the very archive read, and of apt's index in it
    assert summary["sha256"] == bundle.sha256_of(archive)
    assert summary["packages_sha256"] == bundle.sha256_of(folder / "debs" / "Packages")
    assert summary["bytes"] == archive.stat().st_size


def test_a_bundle_for_another_release_is_refused_with_the_fix(make_bundle, requirements, keyring):
    message = refusal(make_bundle(release=fake_bundle.TRIXIE), requirements, keyring)
    assert message == (
        "The bundle is for Debian 13 (trixie), but the box runs Debian 12 (bookworm): "
        "build one with playbooks/bundle.yml -e packages_bundle_release=bookworm."
    )


def test_a_bundle_records_the_release_it_is_for(tmp_path, make_bundle, requirements, keyring):
    archive = make_bundle(release=fake_bundle.TRIXIE)
    assert archive.name == "classbox-bundle-trixie-amd64.tar"
    summary = bundle.check_archive(archive, "amd64", requirements, PACKAGES, keyring, suite="trixie", debian="13")
    assert summary["suite"] == "trixie"
    assert {key: summary["inputs"][key] for key in bundle.RELEASE_KEYS} == fake_bundle.TRIXIE


def test_a_bundle_for_another_architecture_is_refused_with_the_fix(make_bundle, requirements, keyring):
    message = refusal(make_bundle(arch="arm64"), requirements, keyring, arch="amd64")
    assert "for arm64, but the box is amd64" in message
    assert "-e packages_bundle_arch=amd64" in message


def corrupt(folder):
    (folder / "debs" / NGINX_DEB).write_bytes(b"nginx packagf")


def lose(folder):
    (folder / "wheels" / "jupyterhub-5.5.4-py3-none-any.whl").unlink()


def add(folder):
    (folder / "wheels" / "extra-1.0-py3-none-any.whl").write_bytes(b"who put this here")


@pytest.mark.parametrize(
    "tweak, says",
    [
        (corrupt, f"The bundle is damaged: 1 file(s) do not match their checksum, first debs/{NGINX_DEB}."),
        (lose, "The bundle is incomplete: 1 file(s) missing, first wheels/jupyterhub-5.5.4-py3-none-any.whl."),
        (add, "The bundle holds a file it does not list: wheels/extra-1.0-py3-none-any.whl."),
    ],
    ids=["damaged", "missing", "unlisted"],
)
def test_a_changed_copy_is_refused_naming_the_file(make_bundle, requirements, keyring, tweak, says):
    assert refusal(make_bundle(tweak=tweak), requirements, keyring).startswith(says)


# --- forged bundles: changed, then SHA256SUMS written again to match ------------


def forged(change):
    def tweak(folder):
        change(folder)
        bundle.write_checksums(folder)

    return tweak


def swap_deb(folder):
    (folder / "debs" / NGINX_DEB).write_bytes(b"nginx with a backdoor")


def swap_deb_and_its_index_entry(folder):
    swap_deb(folder)
    packages = folder / "debs" / "Packages"
    good, bad = (hashlib.sha256(data).hexdigest() for data in (b"nginx package", b"nginx with a backdoor"))
    packages.write_text(packages.read_text().replace(good, bad))


def swap_wheel(folder):
    (folder / "wheels" / "jupyterhub-5.5.4-py3-none-any.whl").write_bytes(b"hub wheel with a backdoor")


def test_a_swapped_deb_with_regenerated_checksums_is_refused(make_bundle, requirements, keyring):
    message = refusal(make_bundle(tweak=forged(swap_deb)), requirements, keyring)
    assert message.startswith(f"The bundle's debs/{NGINX_DEB} is not the package its index debs/Packages lists")


def test_a_changed_packages_index_is_refused(make_bundle, requirements, keyring):
    message = refusal(make_bundle(tweak=forged(swap_deb_and_its_index_entry)), requirements, keyring)
    assert message.startswith(
        "The bundle's index debs/Packages lists nginx 1.22.1-9 otherwise than Debian's signed index"
    )


def test_a_debian_index_signed_by_another_key_is_refused(tmp_path, make_bundle, requirements, keyring):
    # The forger rewrites Debian's index too, and signs it with a key of their own.
    forger = fake_bundle.make_signer(tmp_path / "forger")[0]
    try:

        def resign(folder):
            swap_deb_and_its_index_entry(folder)
            stanza = (folder / "debs" / "Packages").read_text().split("\n\n")[1].strip()
            fake_bundle.write_debian_index(folder / "index", "bookworm-security", "amd64", [stanza], forger)

        message = refusal(make_bundle(tweak=forged(resign)), requirements, keyring)
    finally:
        fake_bundle.forget_signer(forger)
    assert message.startswith("The bundle's index/bookworm-security/InRelease is not signed with Debian's archive keys")


def test_a_signed_index_edited_after_signing_is_refused(make_bundle, requirements, keyring):
    def edit(folder):
        swap_deb_and_its_index_entry(folder)
        suite = folder / "index" / "bookworm-security"
        signed, old = (suite / "InRelease").read_bytes(), index_sha256(suite)
        stanza = (folder / "debs" / "Packages").read_text().split("\n\n")[1].strip()
        fake_bundle.write_debian_index(folder / "index", "bookworm-security", "amd64", [stanza], None)
        # Debian's signed text, with the sha256 of the forged index in it
        (suite / "InRelease").write_bytes(signed.replace(old.encode(), index_sha256(suite).encode()))

    message = refusal(make_bundle(tweak=forged(edit)), requirements, keyring)
    assert message.startswith(
        "The bundle's index/bookworm-security/InRelease is not signed with Debian's archive keys (gpgv: BAD signature"
    )


def index_sha256(suite: Path) -> str:
    return hashlib.sha256(lzma.decompress((suite / "main" / "binary-amd64" / "Packages.xz").read_bytes())).hexdigest()


def test_an_index_other_than_the_signed_one_is_refused(make_bundle, requirements, keyring):
    def replace_index(folder):
        (folder / "index" / "bookworm" / "main" / "binary-amd64" / "Packages.xz").write_bytes(b"\xfd7zXZ forged")

    message = refusal(make_bundle(tweak=forged(replace_index)), requirements, keyring)
    assert message.startswith(
        "The bundle's index/bookworm/main/binary-amd64/Packages.xz is not the index Debian signed"
    )


def test_a_swapped_wheel_with_regenerated_checksums_is_refused_by_the_lock(make_bundle, requirements, keyring):
    message = refusal(make_bundle(tweak=forged(swap_wheel)), requirements, keyring)
    assert message.startswith(
        "The bundle's wheels/jupyterhub-5.5.4-py3-none-any.whl is not a file that the locks (requirements.txt) allow"
    )


def test_a_lock_without_hashes_is_refused(requirements):
    requirements[0].write_text("jupyterhub==5.5.4\n")
    wheels = {fake_bundle.HUB_WHEEL[0]: hashlib.sha256(fake_bundle.HUB_WHEEL[1]).hexdigest()}
    with pytest.raises(bundle.BundleError, match="has no hashes for jupyterhub: generate it again"):
        bundle.check_wheels(wheels, requirements)


def test_a_pin_without_a_wheel_in_the_bundle_is_refused(requirements):
    requirements[0].write_text(requirements[0].read_text() + "bcrypt==5.0.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    wheels = {fake_bundle.HUB_WHEEL[0]: hashlib.sha256(fake_bundle.HUB_WHEEL[1]).hexdigest()}
    with pytest.raises(bundle.BundleError, match=r"no wheel of bcrypt==5\.0\.0"):
        bundle.check_wheels(wheels, requirements)


def test_checking_debian_packages_needs_debians_keys(make_bundle, requirements, tmp_path):
    message = refusal(make_bundle(), requirements, str(tmp_path / "no-keyring.gpg"))
    assert "needs gpgv and Debian's archive keys" in message


# --- on the box: the copy must be the archive checked at the start -------------


def test_the_checked_archive_is_unpacked_on_the_box(tmp_path, make_bundle, requirements, keyring):
    archive = make_bundle()
    summary = bundle.check_archive(archive, "amd64", requirements, PACKAGES, keyring, **BOX)
    copy, dest = tmp_path / "box" / "bundle.tar", tmp_path / "box" / "bundle"
    copy.parent.mkdir()
    shutil.copyfile(archive, copy)
    bundle.unpack(copy, dest, summary["sha256"], summary["packages_sha256"])
    assert (dest / "debs" / NGINX_DEB).read_bytes() == b"nginx package"
    assert (dest / bundle.STAMP).read_text().strip() == summary["sha256"]
    assert not copy.exists()


def test_a_copy_that_differs_from_the_checked_archive_is_refused(tmp_path, make_bundle, requirements, keyring):
    archive = make_bundle()
    summary = bundle.check_archive(archive, "amd64", requirements, PACKAGES, keyring, **BOX)
    # a forged bundle swapped in on the USB stick after the check
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = make_bundle(tweak=forged(swap_deb), out=elsewhere)
    dest = tmp_path / "bundle"
    with pytest.raises(bundle.BundleError) as raised:
        bundle.unpack(other, dest, summary["sha256"], summary["packages_sha256"])
    assert str(raised.value).startswith(
        f"The bundle copied to the box ({other}) is not the archive checked at the start (sha256 {summary['sha256']})"
    )
    assert not dest.exists()


def test_the_box_refuses_an_index_other_than_the_checked_one(tmp_path, make_bundle):
    archive = make_bundle()
    dest = tmp_path / "bundle"
    with pytest.raises(bundle.BundleError, match="debs/Packages on the box is not the one checked at the start"):
        bundle.unpack(archive, dest, bundle.sha256_of(archive), "0" * 64)
    assert not dest.exists()


def test_the_box_refuses_a_deb_that_its_index_does_not_list(tmp_path, make_bundle, requirements):
    archive = make_bundle(tweak=forged(swap_deb))
    packages = (tmp_path / FOLDER / "debs" / "Packages").read_bytes()
    with pytest.raises(bundle.BundleError, match=f"debs/{NGINX_DEB} is not the package its index"):
        bundle.unpack(archive, tmp_path / "bundle", bundle.sha256_of(archive), hashlib.sha256(packages).hexdigest())


def test_the_command_line_unpack_prints_one_sentence_and_fails(tmp_path, make_bundle, capsys):
    archive = make_bundle()
    status = bundle.main(
        ["unpack", "--sha256", "0" * 64, "--packages-sha256", "0" * 64, str(archive), str(tmp_path / "bundle")]
    )
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("The bundle copied to the box")


# --- the repository's own lock -------------------------------------------------


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_the_repositorys_lock_has_hashes_for_every_pin_and_for_the_local_wheel(python):
    lock = bundle.read_lock(ROOT / "roles" / "jupyterhub" / "files" / f"requirements-python{python}.txt")
    assert len(lock) > 100 and all(hashes for _, hashes in lock.values())
    assert lock["jupyterhub"][0] == "5.5.4"
    local = ROOT / "roles" / "jupyterhub" / "files" / "wheels" / "onetimepass-1.0.1-py3-none-any.whl"
    assert lock["onetimepass"] == ("1.0.1", {bundle.sha256_of(local)})
    # every hand-chosen pin of requirements.in for this Python is in the lock, at that version
    release = pythons(releases())[python]["python_release"]
    chosen = {}
    for line in (ROOT / "roles" / "jupyterhub" / "files" / "requirements.in").read_text().splitlines():
        if line.split("#", 1)[0].strip():
            requirement = Requirement(line.split("#", 1)[0])
            if requirement.marker is None or requirement.marker.evaluate({"python_full_version": release}):
                chosen[bundle.project_key(requirement.name)] = str(requirement.specifier).removeprefix("==")
    assert chosen["jupyter-archive"] == {"3.11": "3.4.0", "3.13": "3.5.1"}[python]
    assert chosen == {key: lock[key][0] for key in chosen}


# --- unchanged behaviour ------------------------------------------------------


def test_an_archive_cut_short_is_refused(make_bundle, requirements, keyring):
    archive = make_bundle()
    archive.write_bytes(archive.read_bytes()[:3000])
    message = refusal(archive, requirements, keyring)
    assert "damaged or cut short" in message or "incomplete" in message


def test_something_that_is_not_a_tar_file_is_refused(tmp_path, requirements, keyring):
    archive = tmp_path / "photo.tar"
    archive.write_bytes(b"\x89PNG not a bundle at all" * 40)
    assert "is not a bundle archive" in refusal(archive, requirements, keyring)


def test_a_missing_archive_is_named(tmp_path, requirements, keyring):
    assert "which is not a file" in refusal(tmp_path / "nowhere.tar", requirements, keyring)


def test_paths_outside_the_bundle_are_refused(tmp_path, requirements, keyring):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        data = b"owned"
        member = tarfile.TarInfo(f"{FOLDER}/../../etc/cron.d/evil")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    assert "not a plain file inside it" in refusal(archive, requirements, keyring)


def test_symlinks_are_refused(tmp_path, requirements, keyring):
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tar:
        member = tarfile.TarInfo(f"{FOLDER}/debs/Packages")
        member.type, member.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(member)
    assert "not a plain file inside it" in refusal(archive, requirements, keyring)


def test_a_bundle_for_other_pinned_versions_is_refused(make_bundle, requirements, keyring):
    archive = make_bundle()
    requirements[0].write_text("jupyterhub==5.5.5\n")
    assert "other versions of the Python packages than this playbook pins" in refusal(archive, requirements, keyring)


def test_a_bundle_without_a_package_this_run_installs_is_refused(make_bundle, requirements, keyring):
    message = refusal(make_bundle(), requirements, keyring, packages=PACKAGES + ["vim"])
    assert "lacks the Debian package(s) vim" in message


def test_build_leaves_an_up_to_date_bundle_alone(tmp_path, make_bundle, requirements, local_wheels, keyring):
    archive = make_bundle()
    before = archive.stat().st_mtime_ns
    args = Namespace(
        arch="amd64",
        out=str(tmp_path),
        requirements=[str(lock) for lock in requirements],
        package=PACKAGES,
        local_wheels=str(local_wheels),
        refresh=False,
        keyring=keyring,
        suite="bookworm",
        debian="12",
        python_version="3.11",
        glibc="2.36",
    )
    result = bundle.build(args)  # no network needed: nothing is downloaded
    assert result["changed"] is False
    assert archive.stat().st_mtime_ns == before


def test_a_changed_local_wheel_makes_the_bundle_out_of_date(make_bundle, requirements, local_wheels, keyring):
    summary = bundle.check_archive(make_bundle(), "amd64", requirements, PACKAGES, keyring, **BOX)
    (local_wheels / "onetimepass-1.0.1-py3-none-any.whl").write_bytes(b"rebuilt differently")
    assert summary["inputs"] != bundle.inputs_of("amd64", requirements, PACKAGES, local_wheels, fake_bundle.BOOKWORM)


def test_the_command_line_prints_one_sentence_and_fails(make_bundle, requirements, capsys):
    archive = make_bundle(arch="arm64")
    status = bundle.main(
        ["check", "--arch", "amd64", "--suite", "bookworm", "--debian", "12", "--requirements", str(requirements)]
        + [str(archive)]
    )
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.strip().startswith("The bundle is for arm64")


def test_wheels_fit_the_releases_glibc_on_each_architecture():
    arm = bundle.pip_platforms("arm64", 36)
    assert arm[0] == "manylinux_2_36_aarch64" and "manylinux2014_aarch64" in arm
    assert all("x86_64" not in name for name in arm)
    assert "manylinux1_x86_64" in bundle.pip_platforms("amd64", 36)
    trixie = bundle.pip_platforms("amd64", 41)
    assert trixie[0] == "manylinux_2_41_x86_64" and "manylinux_2_36_x86_64" in trixie
    assert "manylinux_2_37_x86_64" not in bundle.pip_platforms("amd64", 36)


def test_a_glibc_that_is_not_2_n_is_refused():
    assert bundle.glibc_minor("2.41") == 41
    with pytest.raises(bundle.BundleError, match="glibc must be a version 2.N"):
        bundle.glibc_minor("241")


# --- the course's lock beside the hub's -------------------------------------------

COURSE_WHEEL = ("numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.whl", b"numpy wheel")


def course_lock(path, digest):
    path.write_text(f"numpy==2.4.6 \\\n    --hash=sha256:{digest}\n")
    return path


def test_the_course_locks_wheels_are_checked_like_the_hubs(tmp_path, requirements):
    hub_wheel = {fake_bundle.HUB_WHEEL[0]: hashlib.sha256(fake_bundle.HUB_WHEEL[1]).hexdigest()}
    numpy = {COURSE_WHEEL[0]: hashlib.sha256(COURSE_WHEEL[1]).hexdigest()}
    locks = requirements + [course_lock(tmp_path / "course.txt", numpy[COURSE_WHEEL[0]])]
    bundle.check_wheels(hub_wheel | numpy, locks)  # each wheel allowed by one lock, each pin held
    with pytest.raises(bundle.BundleError, match=r"no wheel of numpy==2\.4\.6, which course\.txt pins"):
        bundle.check_wheels(hub_wheel, locks)
    with pytest.raises(bundle.BundleError, match="is not a file that the locks"):
        bundle.check_wheels(hub_wheel | numpy, requirements)  # numpy without the course's lock


def test_a_pins_wheel_must_be_the_one_its_lock_hashes(tmp_path, requirements):
    # the hub pins numpy 2.4.6 too, with another file: the course's pin still needs its own
    hub_numpy = hashlib.sha256(b"another numpy").hexdigest()
    requirements[0].write_text(requirements[0].read_text() + f"numpy==2.4.6 \\\n    --hash=sha256:{hub_numpy}\n")
    wheels = {
        fake_bundle.HUB_WHEEL[0]: hashlib.sha256(fake_bundle.HUB_WHEEL[1]).hexdigest(),
        "numpy-2.4.6-cp311-cp311-manylinux_2_17_x86_64.whl": hub_numpy,
    }
    locks = requirements + [course_lock(tmp_path / "course.txt", hashlib.sha256(COURSE_WHEEL[1]).hexdigest())]
    with pytest.raises(bundle.BundleError, match=r"no wheel of numpy==2\.4\.6, which course\.txt pins"):
        bundle.check_wheels(wheels, locks)

"""The offline bundle's checks (roles/packages/files/classbox_bundle.py).

The bundles here are small but made the way `build` makes them (manifest,
SHA256SUMS, one top folder); building a real one needs the network and is
covered by the offline molecule scenario.
"""

import io
import sys
import tarfile
from argparse import Namespace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import fake_bundle  # noqa: E402
from fake_bundle import classbox_bundle as bundle  # noqa: E402

PACKAGES = ["nginx", "dnsmasq"]


@pytest.fixture
def requirements(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("jupyterhub==5.5.4\n")
    return path


@pytest.fixture
def local_wheels(tmp_path):
    folder = tmp_path / "local-wheels"
    folder.mkdir()
    (folder / "onetimepass-1.0.1-py3-none-any.whl").write_bytes(b"local wheel")
    return folder


def make_bundle(out, requirements, local_wheels, arch="amd64", tweak=None):
    return fake_bundle.make_bundle(out, requirements, PACKAGES, arch, local_wheels, tweak)


def refusal(archive, requirements, arch="amd64", packages=PACKAGES) -> str:
    with pytest.raises(bundle.BundleError) as raised:
        bundle.check_archive(archive, arch, requirements, packages)
    return str(raised.value)


def test_an_intact_bundle_passes_and_is_described(tmp_path, requirements, local_wheels):
    archive = make_bundle(tmp_path, requirements, local_wheels)
    summary = bundle.check_archive(archive, "amd64", requirements, PACKAGES)
    assert summary["arch"] == "amd64"
    assert summary["folder"] == "classbox-bundle-amd64"
    assert summary["files"] == 4  # two packages' files, a wheel, the manifest
    assert summary["checksums_sha256"] == bundle.sha256_of(tmp_path / "classbox-bundle-amd64" / "SHA256SUMS")
    assert summary["bytes"] == archive.stat().st_size


def test_a_bundle_for_another_architecture_is_refused_with_the_fix(tmp_path, requirements, local_wheels):
    archive = make_bundle(tmp_path, requirements, local_wheels, arch="arm64")
    message = refusal(archive, requirements, arch="amd64")
    assert "for arm64, but the box is amd64" in message
    assert "-e packages_bundle_arch=amd64" in message


def corrupt(folder):
    (folder / "debs" / "nginx_1.22.1-9_amd64.deb").write_bytes(b"nginx packagf")


def lose(folder):
    (folder / "wheels" / "jupyterhub-5.5.4-py3-none-any.whl").unlink()


def add(folder):
    (folder / "wheels" / "extra-1.0-py3-none-any.whl").write_bytes(b"who put this here")


@pytest.mark.parametrize(
    "tweak, says",
    [
        (corrupt, "The bundle is damaged: 1 file(s) do not match their checksum, first debs/nginx_1.22.1-9_amd64.deb."),
        (lose, "The bundle is incomplete: 1 file(s) missing, first wheels/jupyterhub-5.5.4-py3-none-any.whl."),
        (add, "The bundle holds a file it does not list: wheels/extra-1.0-py3-none-any.whl."),
    ],
    ids=["damaged", "missing", "unlisted"],
)
def test_a_changed_copy_is_refused_naming_the_file(tmp_path, requirements, local_wheels, tweak, says):
    message = refusal(make_bundle(tmp_path, requirements, local_wheels, tweak=tweak), requirements)
    assert message.startswith(says)


def test_an_archive_cut_short_is_refused(tmp_path, requirements, local_wheels):
    archive = make_bundle(tmp_path, requirements, local_wheels)
    archive.write_bytes(archive.read_bytes()[:3000])
    message = refusal(archive, requirements)
    assert "damaged or cut short" in message or "incomplete" in message


def test_something_that_is_not_a_tar_file_is_refused(tmp_path, requirements):
    archive = tmp_path / "photo.tar"
    archive.write_bytes(b"\x89PNG not a bundle at all" * 40)
    assert "is not a bundle archive" in refusal(archive, requirements)


def test_a_missing_archive_is_named(tmp_path, requirements):
    assert "which is not a file" in refusal(tmp_path / "nowhere.tar", requirements)


def test_paths_outside_the_bundle_are_refused(tmp_path, requirements):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        data = b"owned"
        member = tarfile.TarInfo("classbox-bundle-amd64/../../etc/cron.d/evil")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    assert "not a plain file inside it" in refusal(archive, requirements)


def test_symlinks_are_refused(tmp_path, requirements):
    archive = tmp_path / "link.tar"
    with tarfile.open(archive, "w") as tar:
        member = tarfile.TarInfo("classbox-bundle-amd64/debs/Packages")
        member.type, member.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(member)
    assert "not a plain file inside it" in refusal(archive, requirements)


def test_a_bundle_for_other_pinned_versions_is_refused(tmp_path, requirements, local_wheels):
    archive = make_bundle(tmp_path, requirements, local_wheels)
    requirements.write_text("jupyterhub==5.5.5\n")
    assert "other versions of the hub's Python packages" in refusal(archive, requirements)


def test_a_bundle_without_a_package_this_run_installs_is_refused(tmp_path, requirements, local_wheels):
    archive = make_bundle(tmp_path, requirements, local_wheels)
    message = refusal(archive, requirements, packages=PACKAGES + ["vim"])
    assert "lacks the Debian package(s) vim" in message


def test_build_leaves_an_up_to_date_bundle_alone(tmp_path, requirements, local_wheels):
    archive = make_bundle(tmp_path, requirements, local_wheels)
    before = archive.stat().st_mtime_ns
    args = Namespace(arch="amd64", out=str(tmp_path), requirements=str(requirements), package=PACKAGES,
                     local_wheels=str(local_wheels), refresh=False)
    result = bundle.build(args)  # no network needed: nothing is downloaded
    assert result["changed"] is False
    assert archive.stat().st_mtime_ns == before


def test_a_changed_local_wheel_makes_the_bundle_out_of_date(tmp_path, requirements, local_wheels):
    make_bundle(tmp_path, requirements, local_wheels)
    summary = bundle.check_archive(tmp_path / "classbox-bundle-amd64.tar", "amd64", requirements, PACKAGES)
    (local_wheels / "onetimepass-1.0.1-py3-none-any.whl").write_bytes(b"rebuilt differently")
    assert summary["inputs"] != bundle.inputs_of("amd64", requirements, PACKAGES, local_wheels)


def test_the_command_line_prints_one_sentence_and_fails(tmp_path, requirements, local_wheels, capsys):
    archive = make_bundle(tmp_path, requirements, local_wheels, arch="arm64")
    status = bundle.main(["check", "--arch", "amd64", "--requirements", str(requirements), str(archive)])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.strip().startswith("The bundle is for arm64")


def test_wheels_fit_debian_12_on_each_architecture():
    arm = bundle.pip_platforms("arm64")
    assert arm[0] == "manylinux_2_36_aarch64" and "manylinux2014_aarch64" in arm
    assert all("x86_64" not in name for name in arm)
    assert "manylinux1_x86_64" in bundle.pip_platforms("amd64")

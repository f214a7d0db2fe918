"""Small bundles laid out as playbooks/bundle.yml makes them, for the tests of
the bundle's checks (unit tests, and the playbook's preflight on a real box)."""

import json
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "roles" / "packages" / "files"))
import classbox_bundle  # noqa: E402


def make_bundle(out: Path, requirements: Path, packages: list[str], arch="amd64", local_wheels=None,
                tweak=None) -> Path:
    """A bundle with a few small files; tweak(folder) may change it after its checksums are written."""
    folder = out / f"classbox-bundle-{arch}"
    (folder / "debs").mkdir(parents=True)
    (folder / "wheels").mkdir()
    (folder / "debs" / "nginx_1.22.1-9_amd64.deb").write_bytes(b"nginx package")
    (folder / "debs" / "Packages").write_text("Package: nginx\n")
    (folder / "wheels" / "jupyterhub-5.5.4-py3-none-any.whl").write_bytes(b"hub wheel")
    manifest = dict(classbox_bundle.inputs_of(arch, requirements, packages, local_wheels), suite="bookworm")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    classbox_bundle.write_checksums(folder)
    if tweak:
        tweak(folder)
    archive = out / f"classbox-bundle-{arch}.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname=folder.name)
    return archive

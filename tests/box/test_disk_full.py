"""A student fills the disk: the hub still signs up and logs in others, and the teacher sees who.

A second box beside the one under test keeps its students' folders and its hub
database on one small ext4 file system made here (a loop device), made with
no reserve: the base role must set one (base_disk_reserve_mb, at most 10%).
"""

import os
import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.box.box import new_student_name, only_in_the_first_pass
from tests.box.lab import log_in, new_notebook, new_student, open_lab, run_cell
from tests.box.playbook import PROJECT

DISK_BOX = "classbox-diskfull"
DISK_BOX_PORT = os.environ.get("BOX_DISKFULL_TEST_PORT", "18082")
DISK_HUB = f"http://127.0.0.1:{DISK_BOX_PORT}/jupyterhub"
DISK_MB = 300
RESERVE_MB = 48  # more than 10% of DISK_MB: the role keeps 10% (30 MB)

# Writes until not one more KB fits: big writes first, then ever smaller ones
# (with an fsync each time, so that the file system counts what is really used).
FILL_THE_DISK = """
import errno, os
fd = os.open('fill.bin', os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
written, errors = 0, set()
try:
    for size in (1 << 20, 1 << 16, 1 << 12, 1 << 10):
        try:
            while True:
                written += os.write(fd, b'x' * size)
        except OSError as error:
            errors.add(errno.errorcode.get(error.errno))
        try:
            os.fsync(fd)
        except OSError as error:
            errors.add(errno.errorcode.get(error.errno))
finally:
    os.close(fd)
print('stopped', '+'.join(sorted(errors)), written)
"""


def run(*command):
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def small_disk(tmp_path):
    """A small ext4 file system with no reserve, mounted on this machine; yields (mount point, device)."""
    image, mount_point = tmp_path / "disk.img", tmp_path / "disk"
    with open(image, "wb") as sparse:
        sparse.truncate(DISK_MB * 1024 * 1024)
    run("mkfs.ext4", "-q", "-m", "0", str(image))
    device = run("losetup", "--find", "--show", str(image))
    try:
        mount_point.mkdir()
        run("mount", device, str(mount_point))
        try:
            (mount_point / "private").mkdir(mode=0o700)
            (mount_point / "jupyterhub").mkdir(mode=0o700)
            yield mount_point, device
        finally:
            run("umount", "--lazy", str(mount_point))
    finally:
        run("losetup", "-d", device)
        image.unlink()


def superblock(device):
    """tune2fs's numbers of the small file system, read inside the box (as the role reads them)."""
    listing = run("docker", "exec", DISK_BOX, "tune2fs", "-l", device)
    return {
        key: int(re.search(rf"^{key}:\s*(\d+)$", listing, re.MULTILINE).group(1))
        for key in ("Block count", "Reserved block count", "Block size")
    }


# The project's own Ansible settings, as a teacher runs demo.sh: not the ones
# molecule puts in the environment of its verifier (its config, colours).
TEACHERS_ENVIRONMENT = {
    **{key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "MOLECULE_"))},
    "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
    "ANSIBLE_NOCOLOR": "1",
}


def provision(env, *options):
    """scripts/demo.sh up for the disk box (with ansible-playbook's options); returns the PLAY RECAP's changed count."""
    done = subprocess.run(
        ["scripts/demo.sh", "up", "-e", f"base_disk_reserve_mb={RESERVE_MB}", *options],
        cwd=PROJECT,
        env={**TEACHERS_ENVIRONMENT, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    recap = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)  # colours, if molecule's environment asks for them
    return int(re.search(r"demo-box\s*:.*\bchanged=(\d+)", recap).group(1))


@pytest.fixture
def disk_box(host, small_disk, tmp_path, admin_credentials):
    """A second box whose /var/lib/private and /var/lib/jupyterhub sit on the small disk."""
    only_in_the_first_pass(host, "the full disk")  # before the minutes a new box takes
    mount_point, device = small_disk
    env = {
        "BOX_NAME": DISK_BOX,
        "BOX_PORT": DISK_BOX_PORT,
        "BOX_STATE_DIR": str(tmp_path / "state"),
        "BOX_ADMIN_PASSWORD": admin_credentials[1],
        "BOX_DOCKER_ARGS": (
            f"-v {mount_point}/private:/var/lib/private -v {mount_point}/jupyterhub:/var/lib/jupyterhub"
            f" --device {device}"
        ),
    }
    subprocess.run(["docker", "rm", "-f", DISK_BOX], capture_output=True)
    try:
        # without the course's packages: the hub, its database and the folders
        # are what a full disk tests (a student's cell runs in the hub's kernel)
        provision(env, "--skip-tags", "course")
        yield env, mount_point, device
    finally:
        subprocess.run(["docker", "rm", "-f", DISK_BOX], capture_output=True)


def test_a_student_fills_the_disk_and_the_hub_still_logs_in_others_and_shows_who(
    page, other_page, admin_credentials, disk_box
):
    env, mount_point, device = disk_box
    blocks = superblock(device)
    assert blocks["Reserved block count"] == blocks["Block count"] // 10  # 48 MB asked, capped at 10%
    # a second run of the role that keeps the reserve changes nothing
    assert provision(env, "--tags", "base") == 0
    assert superblock(device) == blocks

    filler = new_student_name("filler")
    new_student(page, filler, hub=DISK_HUB)
    open_lab(page, filler, hub=DISK_HUB)
    new_notebook(page)
    before = os.statvfs(mount_point)
    stopped = run_cell(page, FILL_THE_DISK, timeout=120_000)
    reason, written = re.fullmatch(r"stopped (\w+) (\d+)", stopped.strip()).groups()
    assert reason == "ENOSPC"
    # the student took all that students may take
    assert int(written) > before.f_bavail * before.f_frsize - 8 * 1024 * 1024
    space = os.statvfs(mount_point)
    assert space.f_bavail * space.f_frsize < 2 * 1024 * 1024  # nothing left for students
    reserve_left = (space.f_bfree - space.f_bavail) * space.f_frsize
    assert reserve_left > 20 * 1024 * 1024  # the hub's reserve is untouched

    # Another student signs up (the hub writes its database) and logs in.
    latecomer = new_student_name("late")
    new_student(other_page, latecomer, hub=DISK_HUB)
    assert log_in(other_page, latecomer, hub=DISK_HUB) == 302
    expect(other_page).to_have_url(re.compile(rf"/jupyterhub/(hub/spawn-pending|user)/{latecomer}"), timeout=60_000)

    # The teacher sees who takes the space.
    admin = other_page
    log_in(admin, *admin_credentials, hub=DISK_HUB)
    admin.goto(f"{DISK_HUB}/hub/students")
    filler_row = admin.locator(f'tr[data-username="{filler}"]')
    expect(filler_row).to_be_visible()
    expect(admin.locator(f'tr[data-username="{latecomer}"]')).to_be_visible()
    used = filler_row.locator("td.space-used")
    expect(used).to_have_text(re.compile(r"^\s*\d+(\.\d)? MB\s*$"))
    assert int(used.get_attribute("data-bytes")) >= int(written)
    expect(admin.locator("#disk")).to_contain_text("kept for the hub")

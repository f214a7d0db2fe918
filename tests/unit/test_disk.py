"""disk: what each student's folder takes, and the space left, on real folders."""

import os
import shutil
import time

import pytest

from classbox import disk

MB = 1_000_000


def write(path, size):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(os.urandom(size))
        out.flush()
        os.fsync(out.fileno())


def du(path):
    """What `du -s --block-size=1` would say, computed another way (os.walk)."""
    total = os.lstat(path).st_blocks * 512
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


@pytest.fixture
def students(tmp_path):
    root = tmp_path / "private"
    root.mkdir()
    return root


def test_each_students_folder_is_counted_with_everything_below_it(students):
    write(students / "alice" / "big.bin", 3 * MB)
    write(students / "alice" / "notebooks" / "deep" / "a.ipynb", 50_000)
    write(students / "bob" / "small.txt", 10)
    (students / "carol").mkdir()

    sizes = disk.usage(students)

    assert set(sizes) == {"alice", "bob", "carol"}
    assert sizes["alice"] == du(students / "alice")
    assert 3 * MB <= sizes["alice"] < 3.2 * MB
    assert sizes["bob"] == du(students / "bob")
    assert sizes["carol"] == du(students / "carol") < 100_000
    assert sizes["bob"] < sizes["alice"]


def test_links_are_not_followed_and_files_beside_the_folders_are_left_out(students, tmp_path):
    outside = tmp_path / "outside"
    write(outside / "huge.bin", 2 * MB)
    (students / "mallory").mkdir()
    (students / "mallory" / "to-outside").symlink_to(outside)
    (students / "mallory" / "file-link").symlink_to(outside / "huge.bin")
    (students / "linked-student").symlink_to(outside)  # not a folder of its own
    write(students / "stray.bin", MB)

    sizes = disk.usage(students)

    assert set(sizes) == {"mallory"}
    assert sizes["mallory"] < 100_000


def test_a_file_with_two_names_counts_once_and_a_sparse_file_counts_what_it_uses(students):
    write(students / "dave" / "data.bin", 2 * MB)
    os.link(students / "dave" / "data.bin", students / "dave" / "same-data.bin")
    with open(students / "dave" / "sparse.bin", "wb") as sparse:
        sparse.truncate(500 * MB)

    assert disk.usage(students)["dave"] < 2.2 * MB


def test_a_missing_or_unreadable_root_gives_nothing(tmp_path):
    assert disk.usage(tmp_path / "not-there") == {}
    write(tmp_path / "a-file", 10)
    assert disk.usage(tmp_path / "a-file") == {}
    assert disk.folder_size(tmp_path / "not-there") == 0
    assert disk.folder_size(tmp_path / "a-file") == 0


def test_files_and_folders_vanishing_during_the_walk_never_raise(students, monkeypatch):
    write(students / "erin" / "kept.bin", MB)
    for n in range(20):
        write(students / "erin" / "gone" / f"f{n}.bin", 1000)
        write(students / "erin" / "later" / f"f{n}.bin", 1000)
    real_scandir = os.scandir

    def scandir_while_the_student_deletes(path):
        if not isinstance(path, (str, os.PathLike)):
            return real_scandir(path)  # shutil.rmtree's own
        if os.fspath(path).endswith("erin"):
            # "gone" is deleted just after the walk has listed it, before its stat
            entries = ListedEntries(real_scandir(path))
            shutil.rmtree(students / "erin" / "gone")
            return entries
        if os.fspath(path).endswith("later"):
            # "later" is deleted after its stat, just before the walk opens it
            shutil.rmtree(path)
        return real_scandir(path)

    monkeypatch.setattr(disk.os, "scandir", scandir_while_the_student_deletes)
    sizes = disk.usage(students)
    assert MB <= sizes["erin"] < 1.2 * MB
    assert not (students / "erin" / "later").exists()


class ListedEntries(list):
    """A directory listing taken before the files went away (DirEntry has no stat cached yet)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_folder_that_cannot_be_read_is_skipped_not_raised(students, monkeypatch):
    write(students / "frank" / "ok.bin", MB)
    (students / "frank" / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if isinstance(path, str) and path.endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(disk.os, "scandir", scandir)
    assert MB <= disk.usage(students)["frank"] < 1.2 * MB


def test_thirty_students_with_many_files_are_walked_in_a_moment(students):
    for student in range(30):
        for folder in range(10):
            base = students / f"student{student}" / f"folder{folder}"
            base.mkdir(parents=True)
            for n in range(30):
                (base / f"notes{n}.txt").write_bytes(b"x" * 100)
    started = time.perf_counter()
    sizes = disk.usage(students)
    elapsed = time.perf_counter() - started
    assert len(sizes) == 30
    assert all(size > 300 * 100 for size in sizes.values())
    assert elapsed < 2, f"9000 files took {elapsed:.2f} s"


def test_free_matches_the_file_systems_numbers(tmp_path):
    space = disk.free(tmp_path)
    fs = os.statvfs(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    assert space.total == usage.total
    assert space.used == usage.used
    assert space.free == usage.free == fs.f_bavail * fs.f_frsize
    assert space.reserved == (fs.f_bfree - fs.f_bavail) * fs.f_frsize
    assert space.free + space.reserved + space.used == space.total


def test_report_gives_both_and_never_raises(students, tmp_path):
    write(students / "gina" / "a.bin", MB)
    sizes, space = disk.report(students)
    assert sizes == disk.usage(students)
    assert space.total == disk.free(students).total
    assert disk.report(tmp_path / "not-there") == ({}, None)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 KB"),
        (3_400_000, "3.4 MB"),
        (9_960_000, "10 MB"),
        (270_000_000, "270 MB"),
        (999_600_000, "1.0 GB"),
        (31_900_000_000, "32 GB"),
        (4_000_000_000_000, "4.0 TB"),
        (4_000_000_000_000_000, "4000 TB"),
    ],
)
def test_sizes_read_as_a_person_says_them(size, text):
    assert disk.human(size) == text


def test_the_summary_names_free_total_and_reserve():
    space = disk.Space(total=32_000_000_000, used=20_000_000_000, free=10_400_000_000, reserved=1_600_000_000)
    assert disk.summary(space) == "Disk: 10 GB free of 32 GB (1.6 GB kept for the hub)"

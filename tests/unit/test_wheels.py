"""The locks per Python and the wheel check (classbox/wheels.py), without the network:
make pins and make wheels ask PyPI themselves."""

import hashlib

from packaging.tags import parse_tag

from classbox import wheels

BOOKWORM = {"debian": "12", "python": "3.11", "python_release": "3.11.2", "glibc": "2.36", "codename": "bookworm"}
TRIXIE = {"debian": "13", "python": "3.13", "python_release": "3.13.5", "glibc": "2.41", "codename": "trixie"}


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


# --- the table and the locks of the repository ------------------------------------


def test_the_table_comes_from_the_box_facts_one_lock_per_python():
    table = wheels.releases()
    assert table["bookworm"]["python"] == "3.11" and table["trixie"]["glibc"] == "2.41"
    by_python = wheels.pythons(table)
    assert list(by_python) == sorted(by_python, key=wheels.python_tuple)
    for python in by_python:
        assert wheels.lock_of(python).is_file(), f"no lock for Python {python}: run make pins"


def test_one_python_for_two_releases_gets_one_lock_oldest_python_first():
    table = {"trixie": TRIXIE, "bookworm": BOOKWORM, "bookworm-like": dict(BOOKWORM, debian="12.5")}
    by_python = wheels.pythons({name: {k: v for k, v in f.items() if k != "codename"} for name, f in table.items()})
    assert list(by_python) == ["3.11", "3.13"]
    assert by_python["3.11"]["codename"] == "bookworm"


def test_each_lock_is_resolved_for_its_releases_python_and_glibc():
    command = wheels.compile_command(BOOKWORM, wheels.lock_of("3.11"), [])
    assert command[command.index("--python-version") + 1] == "3.11.2"
    assert command[command.index("--python-platform") + 1] == "x86_64-manylinux_2_36"
    assert command[command.index("--output-file") + 1] == "roles/jupyterhub/files/requirements-python3.11.txt"
    assert "--generate-hashes" in command and command[command.index("--custom-compile-command") + 1] == "make pins"
    trixie = wheels.compile_command(TRIXIE, wheels.lock_of("3.13"), ["--upgrade-package=anyio"])
    # uv knows manylinux up to 2_40; make wheels checks glibc 2.41 itself
    assert trixie[trixie.index("--python-platform") + 1] == "x86_64-manylinux_2_40"
    assert trixie[-1] == "--upgrade-package=anyio"


# --- the wheels each lock needs ---------------------------------------------------


def test_a_wheel_fits_its_python_and_glibc_only():
    def fits(python, glibc, arch, tag):
        return bool(set(wheels.supported_tags(python, glibc, arch)) & tags_of(tag))

    assert fits("3.13", "2.41", "amd64", "cp313-cp313-manylinux_2_41_x86_64")
    assert not fits("3.11", "2.36", "amd64", "cp311-cp311-manylinux_2_41_x86_64")  # too new a glibc for bookworm
    assert not fits("3.13", "2.41", "amd64", "cp311-cp311-manylinux_2_17_x86_64")  # another Python's
    assert fits("3.13", "2.41", "arm64", "cp311-abi3-manylinux_2_17_aarch64")  # the stable ABI fits later Pythons
    assert fits("3.11", "2.36", "arm64", "py3-none-any")
    assert not fits("3.13", "2.41", "arm64", "cp313-cp313-manylinux_2_17_x86_64")


def tags_of(tag: str) -> set:
    return set(parse_tag(tag))


def test_a_pin_without_a_fitting_wheel_whose_sha256_the_lock_lists_is_named_per_architecture():
    wanted = {arch: wheels.supported_tags("3.13", "2.41", arch) for arch in ("amd64", "arm64")}
    files = {
        "bcrypt": [
            ("bcrypt-5.0.0-cp39-abi3-manylinux_2_34_x86_64.whl", digest("bcrypt x86")),
            ("bcrypt-5.0.0-cp39-abi3-manylinux_2_34_aarch64.whl", digest("bcrypt arm")),
        ],
        "pyzmq": [("pyzmq-27.0.0-cp313-cp313-manylinux_2_28_x86_64.whl", digest("zmq x86"))],
        "six": [("six-1.17.0-py2.py3-none-any.whl", digest("six"))],
        "tornado": [("tornado-6.5-cp39-abi3-manylinux_2_17_aarch64.whl", digest("not the locked file"))],
    }
    lock = {
        "bcrypt": ("5.0.0", {digest("bcrypt x86"), digest("bcrypt arm")}),
        "pyzmq": ("27.0.0", {digest("zmq x86")}),
        "six": ("1.17.0", {digest("six")}),
        "tornado": ("6.5", {digest("tornado")}),
        "absent": ("1.0", {digest("absent")}),
    }
    assert wheels.missing_wheels(lock, files, wanted) == [
        "absent==1.0 has no wheel for amd64 whose sha256 the lock lists",
        "absent==1.0 has no wheel for arm64 whose sha256 the lock lists",
        "pyzmq==27.0.0 has no wheel for arm64 whose sha256 the lock lists",
        "tornado==6.5 has no wheel for amd64 whose sha256 the lock lists",
        "tornado==6.5 has no wheel for arm64 whose sha256 the lock lists",
    ]


def test_a_wheel_of_another_version_does_not_count():
    files = [("six-1.16.0-py2.py3-none-any.whl", digest("six"))]
    assert wheels.wheel_tags("six", "1.17.0", {digest("six")}, files) == set()
    assert wheels.wheel_tags("six", "1.16.0", {digest("six")}, files)


# --- where the locks differ ------------------------------------------------------

CHOSEN = """jupyterhub==5.5.4
# python3.13: overrides is not pinned: jupyter-server needs it only before Python 3.12
"""


def test_a_difference_between_the_locks_needs_a_note_in_requirements_in():
    locks = {
        "3.11": {"jupyterhub": ("5.5.4", set()), "overrides": ("7.7.0", set()), "anyio": ("4.16.0", set())},
        "3.13": {"jupyterhub": ("5.5.4", set()), "anyio": ("4.17.0", set())},
    }
    notes = wheels.notes_of(CHOSEN)
    assert list(notes) == ["3.13"] and notes["3.13"][0][0] == "overrides"
    assert wheels.unexplained_differences(locks, notes) == [
        "requirements-python3.13.txt has anyio 4.17.0, the Python 3.11 lock 4.16.0"
    ]
    assert wheels.differences(locks) == [
        "anyio: 4.16.0 for Python 3.11, 4.17.0 for Python 3.13",
        "overrides: 7.7.0 for Python 3.11, absent for Python 3.13",
    ]


def test_the_notes_go_below_uvs_header_the_same_each_time(tmp_path):
    lock = tmp_path / "requirements-python3.13.txt"
    uv_output = "# This file was autogenerated by uv via the following command:\n#    make pins\nsix==1.17.0 \\\n"
    lock.write_text(uv_output)
    notes = wheels.notes_of(CHOSEN)["3.13"]
    wheels.with_notes(lock, notes)
    once = lock.read_text()
    assert once.splitlines()[2:4] == [wheels.HEADING.strip(), notes[0][1]]
    wheels.with_notes(lock, notes)
    assert lock.read_text() == once
    wheels.with_notes(lock, [])
    assert lock.read_text() == uv_output


def test_the_repositorys_locks_differ_only_where_requirements_in_says_why():
    by_python = wheels.pythons(wheels.releases())
    locks = {python: wheels.read_lock(wheels.lock_of(python)) for python in by_python}
    assert wheels.unexplained_differences(locks, wheels.notes_of(wheels.CHOSEN.read_text())) == []
    for python, notes in wheels.notes_of(wheels.CHOSEN.read_text()).items():
        header = wheels.lock_of(python).read_text().split("==", 1)[0]
        assert all(line in header for _, line in notes), f"make pins: the notes are not in {python}'s lock"

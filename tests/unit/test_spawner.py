import os

from classbox.spawner import remove_dangling_link


def test_dangling_link_is_removed(tmp_path):
    link = tmp_path / "jupyter-anna-singleuser"
    os.symlink("private/jupyter-anna-singleuser", link)
    assert remove_dangling_link(str(link)) is True
    assert not os.path.lexists(link)


def test_live_link_and_real_directory_are_kept(tmp_path):
    (tmp_path / "private" / "jupyter-bob-singleuser").mkdir(parents=True)
    link = tmp_path / "jupyter-bob-singleuser"
    os.symlink("private/jupyter-bob-singleuser", link)
    real = tmp_path / "jupyter-carla-singleuser"
    real.mkdir()
    assert remove_dangling_link(str(link)) is False
    assert remove_dangling_link(str(real)) is False
    assert os.path.lexists(link) and real.is_dir()
    assert remove_dangling_link(str(tmp_path / "missing")) is False

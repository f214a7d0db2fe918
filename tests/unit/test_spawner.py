import os

from classbox.spawner import progress_event, remove_dangling_link


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


def test_the_spawn_page_says_how_many_servers_start_beside_this_one():
    event = progress_event(others_starting=29, unit_running=False, waited=4.2)
    assert event["message"] == (
        "Starting your server (4 s). The box is starting 29 other servers at the same moment,"
        " so this can take up to a minute: keep this page open."
    )
    assert event["progress"] == 14
    assert "1 other server at" in progress_event(1, False, 0)["message"]
    assert progress_event(0, False, 2)["message"] == "Starting your server (2 s)."


def test_the_spawn_page_says_when_the_server_runs_and_jupyterlab_loads():
    event = progress_event(others_starting=12, unit_running=True, waited=7)
    assert event == {"progress": 67, "message": "Your server is running and JupyterLab is loading (7 s)."}
    assert progress_event(0, False, 200)["progress"] == 50
    assert progress_event(0, True, 200)["progress"] == 95

import sqlite3
import stat
import subprocess
import sys

from classbox import state


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_is_written_once_for_root_only(tmp_path):
    path = tmp_path / "proxy.env"
    assert state.write_secret(path, "CONFIGPROXY_AUTH_TOKEN=") is True
    first = path.read_text()
    assert first.startswith("CONFIGPROXY_AUTH_TOKEN=") and first.endswith("\n")
    token = first.removeprefix("CONFIGPROXY_AUTH_TOKEN=").strip()
    assert len(token) == 64 and int(token, 16) >= 0
    assert mode(path) == 0o600
    # a second run keeps the box's secret
    assert state.write_secret(path, "CONFIGPROXY_AUTH_TOKEN=") is False
    assert path.read_text() == first


def test_nginxs_header_line_is_one_that_the_hub_reads(tmp_path):
    from classbox.authenticator import NginxHeader

    path = tmp_path / "classbox-hub-header.conf"
    assert state.main(["secret", str(path), "--prefix=proxy_set_header X-Classbox-Nginx ", "--suffix=;"]) == 0
    name, secret = NginxHeader().read(str(path))
    assert name == "X-Classbox-Nginx" and len(secret) == 64
    assert path.read_text() == f"proxy_set_header X-Classbox-Nginx {secret};\n"
    assert mode(path) == 0o600


def test_two_secrets_differ(tmp_path):
    state.write_secret(tmp_path / "a")
    state.write_secret(tmp_path / "b")
    assert (tmp_path / "a").read_text() != (tmp_path / "b").read_text()


def test_a_secret_is_not_written_through_a_link(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "cookie").symlink_to(target)
    assert state.write_secret(tmp_path / "cookie") is False
    assert not target.exists()


def test_wal_is_set_once_and_kept(tmp_path):
    db = tmp_path / "jupyterhub.sqlite"
    assert state.use_wal(db) is True
    assert mode(db) == 0o600
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert state.use_wal(db) is False


def test_wal_on_a_database_with_tables(tmp_path):
    db = tmp_path / "jupyterhub.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    conn.close()
    assert state.use_wal(db) is True
    assert sqlite3.connect(db).execute("SELECT name FROM users").fetchall() == [("ada",)]


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "classbox.state", *map(str, args)], capture_output=True, text=True, check=True
    ).stdout


def test_the_command_says_changed_only_when_it_changed_something(tmp_path):
    # what the jupyterhub role's changed_when reads
    assert run("secret", tmp_path / "cookie") == "changed\n"
    assert run("secret", tmp_path / "cookie") == ""
    assert run("secret", tmp_path / "env", "--prefix", "JUPYTERHUB_API_TOKEN=") == "changed\n"
    assert (tmp_path / "env").read_text().startswith("JUPYTERHUB_API_TOKEN=")
    assert run("wal", tmp_path / "db.sqlite") == "changed\n"
    assert run("wal", tmp_path / "db.sqlite") == ""

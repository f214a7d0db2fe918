import pytest
from jupyterhub import orm
from sqlalchemy import create_engine
from sqlalchemy.orm import Session


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"


@pytest.fixture
def db(db_url):
    """A real hub database, created by JupyterHub's own ORM."""
    session = orm.new_session_factory(db_url)()
    yield session
    session.close()


@pytest.fixture
def authenticator(db, tmp_path):
    from classbox.authenticator import ClassroomAuthenticator

    auth = ClassroomAuthenticator(db=db, add_new_table=False)
    auth.add_new_table()
    auth.admin_users = {"admin"}
    auth.open_signup = True
    auth.minimum_password_length = 8
    auth.state_root = str(tmp_path / "var-lib")
    (tmp_path / "var-lib").mkdir()
    return auth


@pytest.fixture
def fresh_session(db_url):
    """A second connection, as another process (the playbook) would have."""
    with Session(create_engine(db_url)) as session:
        yield session

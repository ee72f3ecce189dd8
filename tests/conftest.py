"""Shared fixtures.

Databases
    ``database_url`` is a fresh, empty database for one test, once per backend:
    a SQLite file in the test's temporary folder, and a newly created database
    on the PostgreSQL server named by ``TEST_POSTGRES_URL`` (default: the local
    server, database ``test``), dropped afterwards. Without a reachable server
    the PostgreSQL case is skipped with the reason shown, unless ``CI`` is set:
    then it fails, so CI never passes without having tested PostgreSQL.
    ``engine`` is that database migrated to the newest schema, still empty;
    ``loaded`` the same with the small table in ``tests/data/table.yaml`` imported.

Applications
    ``settings`` points the service at ``database_url`` with the admin token
    ``TOKEN``, the named editors ``alice`` and ``bob`` (``EDITOR_TOKENS``) and
    the small table in ``tests/data/table.yaml``; ``client`` is a TestClient
    over a fresh ``create_app(settings)`` with its lifespan run (so the table
    is loaded), and ``admin`` holds the headers the editor ``admin`` sends,
    ``as_editor(name)`` those of a named editor.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import store
from app.aliasfile import parse_alias_file
from app.db import make_engine, migrate
from app.main import create_app
from app.matching.derived_forms import usable_cores
from app.settings import Settings

TOKEN = "test-admin-token"
EDITOR_TOKENS = {"alice": "alice-secret-token", "bob": "bob-secret-token"}
DATA = Path(__file__).parent / "data"
SMALL_TABLE = DATA / "table.yaml"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one test process per core the service itself would use,
    a container's CPU quota counted, not every CPU the system has."""
    return usable_cores()


def _postgres_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(_libpq_url(POSTGRES_URL), connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}"


def _libpq_url(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    reason = _postgres_unreachable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL must be tested)")
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new empty PostgreSQL database, dropped after the test."""
    with new_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@contextmanager
def new_postgres_database(server: str) -> Iterator[str]:
    """The URL of a new empty database on ``server``, dropped on leaving."""
    name = f"alias_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq_url(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'alias-service.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with Session(engine) as session:
        table = parse_alias_file(SMALL_TABLE.read_bytes())
        store.import_table(session=session, actor="t", table=table, mode="merge", allow_shared=True)
    return engine


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=TOKEN,
        admin_tokens=",".join(f"{name}:{token}" for name, token in EDITOR_TOKENS.items()),
        aliases_file=SMALL_TABLE,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "X-Editor": "tester"}


def as_editor(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {EDITOR_TOKENS[name]}"}


def named_field(response: Any) -> list[list[str | int]]:
    """The fields a 422 answer names, e.g. [["query", "offset"]]."""
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]

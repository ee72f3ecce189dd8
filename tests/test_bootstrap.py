"""The shipped table is loaded once, into a new database, and never again."""

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from app import store
from app.aliasfile import parse_alias_file
from app.bootstrap import prepare_database, prepare_when_reachable, seed_new_database
from app.db import make_engine
from app.errors import InvalidAliasFile
from app.main import create_app
from app.settings import Settings
from tests.conftest import SMALL_TABLE

KABUL = parse_alias_file("entities:\n  - {id: kabul, name: Kabul, type: location}\n")
SHIPPED_IDS = sorted(entry.id for entry in parse_alias_file(SMALL_TABLE.read_bytes()).entities)


def entity_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [entry.id for entry in store.export_table(session=session).entities]


def test_a_new_database_gets_the_shipped_table(engine: Engine) -> None:
    # ``engine`` was migrated already, as by ``alias-service migrate``: still new.
    prepare_database(engine=engine, aliases_file=SMALL_TABLE)
    assert entity_ids(engine) == SHIPPED_IDS


def test_a_shipped_table_that_cannot_be_read_is_refused_naming_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    missing, twice = tmp_path / "missing.yaml", tmp_path / "twice.yaml"
    twice.write_text("entities:\n  - {id: a, name: A, type: t}\n  - {id: a, name: B, type: t}\n")
    for path, reason in [(missing, "No such file"), (twice, "'a' is already used")]:
        with pytest.raises(InvalidAliasFile, match=f"^ALIASES_FILE {path}: .*{reason}"):
            prepare_database(engine=engine, aliases_file=path)
    assert entity_ids(engine) == []


def test_a_table_that_editors_emptied_stays_empty(engine: Engine) -> None:
    prepare_database(engine=engine, aliases_file=SMALL_TABLE)
    with Session(engine) as session:
        empty = parse_alias_file("entities: []")
        store.import_table(
            session=session, actor="t", table=empty, mode="replace", allow_empty=True
        )
    prepare_database(engine=engine, aliases_file=SMALL_TABLE)
    assert entity_ids(engine) == []


def test_a_table_in_use_gets_nothing_added(engine: Engine) -> None:
    with Session(engine) as session:
        store.import_table(session=session, actor="t", table=KABUL, mode="merge")
    prepare_database(engine=engine, aliases_file=SMALL_TABLE)
    assert entity_ids(engine) == ["kabul"]


def test_entities_stored_without_a_revision_are_not_reseeded(engine: Engine) -> None:
    with engine.begin() as connection:  # as written by hand, or by an older version
        connection.execute(
            text(
                "INSERT INTO entity (id, name, normalized_name, type, created_at, updated_at) "
                "VALUES ('kabul', 'Kabul', 'kabul', 'location', '2026-01-01', '2026-01-01')"
            )
        )
    prepare_database(engine=engine, aliases_file=SMALL_TABLE)
    assert entity_ids(engine) == ["kabul"]


def test_a_restart_after_emptying_serves_an_empty_table(
    settings: Settings, admin: dict[str, str]
) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/entities").json()["total"] > 0
        url = "/admin/import?mode=replace&confirm=true&allow_empty=true"
        assert client.post(url, content="entities: []", headers=admin).status_code == 200
    with TestClient(create_app(settings)) as client:
        assert client.get("/entities").json()["total"] == 0
        assert client.get("/resolve", params={"q": "TTP"}).json()["status"] == "unmatched"


def test_processes_starting_together_load_it_once(engine: Engine, database_url: str) -> None:
    # The schema is there (migrations take turns under the setup lock): they race to seed it.
    engines = [make_engine(database_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    errors: list[Exception] = []

    def start_up(engine: Engine) -> None:
        start.wait()
        try:
            seed_new_database(engine=engine, aliases_file=SMALL_TABLE)
        except Exception as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start_up, args=(each,)) for each in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for each in engines:
        each.dispose()
    assert errors == []
    with Session(engine) as session:
        assert store.current_revision(session=session) == 1
    assert entity_ids(engine) == SHIPPED_IDS


@pytest.mark.postgres
def test_a_table_locked_elsewhere_is_waited_for_try_after_try(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """serve waited on such a lock for as long as it was held, saying nothing."""
    engine = make_engine(postgres_url)
    prepare_database(engine=engine, aliases_file=SMALL_TABLE)
    locked, release = threading.Event(), threading.Event()

    def hold_the_table() -> None:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE table_state IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)
            connection.rollback()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(10)
        threading.Timer(2.5, release.set).start()
        started = time.monotonic()
        prepare_when_reachable(engine=engine, aliases_file=SMALL_TABLE, wait=10)
    finally:
        release.set()
        holder.join()
        engine.dispose()
    assert 2.5 <= time.monotonic() - started < 10
    tries = [r.message for r in caplog.records if "not reachable" in r.message]
    assert tries and all("lock timeout" in line for line in tries), tries

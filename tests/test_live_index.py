"""Two processes' worth of index on one database: each sees the other's edits."""

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app import store
from app.aliasfile import parse_alias_file
from app.db import make_engine
from app.live_index import LiveIndex
from app.matching.resolve import Status, resolve
from app.models import AliasCreate, EntityCreate
from tests.conftest import SMALL_TABLE


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    with Session(engine) as session:
        table = parse_alias_file(SMALL_TABLE.read_bytes())
        store.import_table(session=session, actor="t", table=table, mode="merge")
    return engine


@pytest.fixture
def other_engine(loaded: Engine, database_url: str) -> Iterator[Engine]:
    """A second engine on the same database, as another process would have."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def status(live: LiveIndex, text: str) -> Status:
    return resolve(live.snapshot, text).status


def test_an_edit_elsewhere_is_seen_after_a_refresh(loaded: Engine, other_engine: Engine) -> None:
    mine, theirs = LiveIndex(loaded), LiveIndex(other_engine)
    mine.load()
    theirs.load()
    before = theirs.snapshot
    with Session(loaded) as session:
        store.add_alias(
            session=session, actor="t", entity_id="tlp", data=AliasCreate(text="Labbaik")
        )
    assert status(theirs, "Labbaik") is Status.UNMATCHED
    assert theirs.refresh()
    assert status(theirs, "Labbaik") is Status.MATCHED
    assert resolve(before, "Labbaik").status is Status.UNMATCHED  # old snapshots never change
    assert not theirs.refresh()
    mine.refresh()
    assert theirs.revision == mine.revision


def test_deletes_and_replacements_reach_other_processes(
    loaded: Engine, other_engine: Engine
) -> None:
    theirs = LiveIndex(other_engine)
    theirs.load()
    with Session(loaded) as session:
        store.delete_entity(session=session, actor="t", entity_id="tlp")
        theirs.refresh()
        assert status(theirs, "TLP") is Status.UNMATCHED
        table = parse_alias_file("entities:\n  - {id: kabul, name: Kabul, type: location}\n")
        store.import_table(session=session, actor="t", table=table, mode="replace")
    theirs.refresh()
    assert status(theirs, "Kabul") is Status.MATCHED
    assert status(theirs, "TTP") is Status.UNMATCHED
    assert theirs.snapshot.entity_count == 1


def test_a_merge_elsewhere_takes_the_merged_entity_out_of_the_index(
    loaded: Engine, other_engine: Engine
) -> None:
    theirs = LiveIndex(other_engine)
    theirs.load()
    with Session(loaded) as session:
        store.merge_entity(session=session, actor="t", entity_id="tlp", into="ttp")
    theirs.refresh()
    found = resolve(theirs.snapshot, "Tehreek-e-Labbaik Pakistan")
    assert (found.status, found.entity and found.entity.id) == (Status.MATCHED, "ttp")
    assert theirs.snapshot.entity_count == 3


def test_the_watcher_thread_picks_up_edits_within_a_second(
    loaded: Engine, other_engine: Engine
) -> None:
    theirs = LiveIndex(other_engine)
    theirs.load()
    theirs.start(interval=0.1)
    try:
        with Session(loaded) as session:
            entity = EntityCreate(id="kabul", name="Kabul", type="location")
            store.create_entity(session=session, actor="t", data=entity)
        deadline = time.monotonic() + 1.0
        while status(theirs, "Kabul") is not Status.MATCHED:
            assert time.monotonic() < deadline, "not visible within 1 s"
            time.sleep(0.02)
    finally:
        theirs.stop()


def test_compaction_keeps_the_content(loaded: Engine) -> None:
    live = LiveIndex(loaded, compact_after=1)
    live.load()
    with Session(loaded) as session:
        for n in range(3):
            entity = EntityCreate(id=f"e{n}", name=f"Entity {n}", type="thing")
            store.create_entity(session=session, actor="t", data=entity)
    live.refresh()
    assert live.snapshot.overlay_size == 3
    live.load()
    assert live.snapshot.overlay_size == 0
    assert status(live, "Entity 2") is Status.MATCHED
    assert live.snapshot.entity_count == 7


def test_types_declared_elsewhere_reach_the_index_without_a_rebuild(
    loaded: Engine, other_engine: Engine
) -> None:
    mine, theirs = LiveIndex(loaded), LiveIndex(other_engine)
    mine.load()
    theirs.load()
    base = theirs.snapshot.base
    with Session(loaded) as session:
        table = parse_alias_file(
            "types:\n  - {id: location, description: A place.}\n"
            "  - {id: organization, description: A group.}\n"
        )
        store.import_table(session=session, actor="t", table=table, mode="merge")
    assert theirs.refresh()
    assert theirs.snapshot.declared_types == ("location", "organization")
    assert theirs.snapshot.base is base

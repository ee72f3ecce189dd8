"""Two processes' worth of index on one database: each sees the other's edits."""

import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app import child_build, child_pipes, live_index, store
from app.aliasfile import parse_alias_file
from app.db import make_engine, migrate
from app.live_index import LiveIndex
from app.matching.index import AliasIndex
from app.matching.resolve import Status, resolve
from app.matching.snapshot import write_snapshot
from app.models.api import AliasCreate, EntityCreate
from tests.processes import ended_within


@pytest.fixture
def other_engine(loaded: Engine, database_url: str) -> Iterator[Engine]:
    """A second engine on the same database, as another process would have."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def theirs(other_engine: Engine) -> LiveIndex:
    """Another process's index of the database, loaded."""
    live = LiveIndex(other_engine)
    live.load()
    return live


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


def test_deletes_and_replacements_reach_other_processes(loaded: Engine, theirs: LiveIndex) -> None:
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
    loaded: Engine, theirs: LiveIndex
) -> None:
    with Session(loaded) as session:
        store.merge_entity(session=session, actor="t", entity_id="tlp", into="ttp")
    theirs.refresh()
    found = resolve(theirs.snapshot, "Tehreek-e-Labbaik Pakistan")
    assert (found.status, found.entity and found.entity.id) == (Status.MATCHED, "ttp")
    assert theirs.snapshot.entity_count == 3


def test_the_watcher_thread_picks_up_edits_within_a_second(
    loaded: Engine, theirs: LiveIndex
) -> None:
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
    live = LiveIndex(loaded, compact_after=3)
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


def test_more_changes_than_an_overlay_holds_are_built_into_the_index(loaded: Engine) -> None:
    live = LiveIndex(loaded, compact_after=2)
    live.load()
    with Session(loaded) as session:
        entities = [EntityCreate(id=f"e{n}", name=f"Entity {n}", type="thing") for n in range(3)]
        store.import_entities(session=session, actor="t", entries=entities, mode="merge")
    assert live.refresh()
    assert live.snapshot.overlay_size == 0
    assert status(live, "Entity 2") is Status.MATCHED
    assert live.snapshot.entity_count == 7


def test_changes_that_need_a_rebuild_are_read_once(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveIndex(loaded, compact_after=2)
    live.load()
    with Session(loaded) as session:
        entities = [EntityCreate(id=f"e{n}", name=f"Entity {n}", type="thing") for n in range(3)]
        store.import_entities(session=session, actor="t", entries=entities, mode="merge")
    reads = []
    changes_since = store.changes_since

    def reading(**kwargs: Any) -> store.ChangeSet:
        reads.append(kwargs["revision"])
        return changes_since(**kwargs)

    monkeypatch.setattr(store, "changes_since", reading)
    assert live.refresh()
    assert status(live, "Entity 2") is Status.MATCHED
    assert len(reads) == 1


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


def kept_within(path: Path, seconds: float = 60) -> None:
    """Wait for the forked child to write the snapshot file."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_restart_reads_the_kept_index_and_catches_up_with_the_edits_since(
    loaded: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.snapshot"
    LiveIndex(loaded, snapshot_file=path).load()
    kept_within(path)
    with Session(loaded) as session:
        store.add_alias(
            session=session, actor="t", entity_id="tlp", data=AliasCreate(text="Labbaik")
        )
    caplog.set_level(logging.INFO, logger="app.live_index")
    restarted = LiveIndex(loaded, snapshot_file=path)
    restarted.load()
    assert "index loaded (read back)" in caplog.text
    assert status(restarted, "Labbaik") is Status.MATCHED
    assert status(restarted, "TTP") is Status.MATCHED
    assert restarted.snapshot.entity_count == 4


def test_a_kept_index_is_not_read_for_another_database(
    loaded: Engine, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.snapshot"
    LiveIndex(loaded, snapshot_file=path).load()
    kept_within(path)
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(other)
    with Session(other) as session:
        entity = EntityCreate(id="other", name="Other Thing", type="thing")
        store.create_entity(session=session, actor="t", data=entity)
    caplog.set_level(logging.INFO, logger="app.live_index")
    elsewhere = LiveIndex(other, snapshot_file=path)
    elsewhere.load()
    other.dispose()
    assert "index loaded (built)" in caplog.text
    assert "index loaded (read back)" not in caplog.text
    assert status(elsewhere, "Other Thing") is Status.MATCHED
    assert status(elsewhere, "TTP") is Status.UNMATCHED


def test_an_index_that_cannot_be_kept_still_serves(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_fork() -> int:
        raise OSError("out of processes")

    monkeypatch.setattr(os, "fork", no_fork)
    live = LiveIndex(loaded, snapshot_file=tmp_path / "index.snapshot")
    live.load()
    assert "index could not be kept" in caplog.text
    assert status(live, "TTP") is Status.MATCHED
    assert not (tmp_path / "index.snapshot").exists()


def test_an_index_its_child_could_not_keep_is_warned_of_with_the_reason(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The warning said only that the index was not kept."""

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(live_index, "write_snapshot", disk_full)  # the child inherits it
    monkeypatch.setattr(LiveIndex, "_build_in_child", lambda _live: None)  # built here, kept apart
    path = tmp_path / "index.snapshot"
    live = LiveIndex(loaded, snapshot_file=path)
    running = set(threading.enumerate())
    live.load()
    assert status(live, "TTP") is Status.MATCHED
    [keeper] = [t for t in threading.enumerate() if t.name == "index-keeper" and t not in running]
    keeper.join(timeout=30)
    assert (
        f"index could not be kept in {path}: OSError: [Errno 28] No space left on device"
        in caplog.text
    )
    assert not path.exists()


def _not_snapshots(folder: Path) -> dict[str, Path]:
    """Files that INDEX_SNAPSHOT may name by mistake, each made in ``folder``."""
    database = folder / "alias-service.db"
    database.write_bytes(b"SQLite format 3\x00" + bytes(4096))
    aliases = folder / "aliases.yaml"
    aliases.write_text("entities: []\n")
    pipe = folder / "pipe"
    os.mkfifo(pipe)  # a read of it would wait forever
    link = folder / "link"
    link.symlink_to(folder / "index.snapshot")
    return {"database": database, "alias file": aliases, "pipe": pipe, "link": link}


@pytest.mark.parametrize("kind", ["database", "alias file", "pipe", "link"])
def test_a_snapshot_file_that_holds_something_else_is_neither_read_nor_replaced(
    loaded: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """A database named as INDEX_SNAPSHOT by mistake was overwritten by the index."""
    path = _not_snapshots(tmp_path)[kind]
    before = path.lstat()
    content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    live = LiveIndex(loaded, snapshot_file=path)
    live.load()
    assert status(live, "TTP") is Status.MATCHED
    assert f"INDEX_SNAPSHOT {path} is" in caplog.text
    assert "neither read from it nor kept in it" in caplog.text
    for thread in threading.enumerate():  # a child keeping the index: done
        if thread.name == "index-keeper":
            thread.join(30)
    after = path.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    if content is not None:
        assert path.read_bytes() == content


def test_keeping_a_snapshot_over_another_file_is_refused(tmp_path: Path) -> None:
    path = _not_snapshots(tmp_path)["database"]
    with pytest.raises(ValueError, match="holds something else than an index snapshot"):
        write_snapshot(path, AliasIndex.build([]).base, "1:1:2026-12-07T00:00:00")


def add_alias(engine: Engine, text: str, entity_id: str = "tlp") -> int:
    """An edit through ``engine``; the database's revision after it."""
    with Session(engine) as session:
        store.add_alias(
            session=session, actor="t", entity_id=entity_id, data=AliasCreate(text=text)
        )
        return store.current_revision(session=session)


def test_missed_edits_lag_only_once_the_allowance_has_passed(
    loaded: Engine, theirs: LiveIndex
) -> None:
    theirs.start(interval=3600)  # watching, but not refreshing within the test
    try:
        newest = add_alias(loaded, "Labbaik")
        within = theirs.lag(database_revision=newest, allowance=3600, stall_after=3600)
        assert (within.lagging, within.revisions_behind) == (False, 1)
        assert within.seconds is not None and within.seconds > 0
        past = theirs.lag(database_revision=newest, allowance=0, stall_after=3600)
        assert past.lagging
        assert past.reason == "the index is 1 revision behind the database"
        theirs.refresh()
        caught_up = theirs.lag(database_revision=newest, allowance=0, stall_after=3600)
        assert (caught_up.lagging, caught_up.seconds, caught_up.reason) == (False, 0.0, None)
    finally:
        theirs.stop()


def test_an_index_nothing_refreshes_is_lagging_even_when_it_holds_the_newest_revision(
    loaded: Engine,
) -> None:
    live = LiveIndex(loaded)
    live.load()
    lag = live.lag(database_revision=live.revision, allowance=3600, stall_after=3600)
    assert lag.lagging
    assert lag.reason == "the thread that takes in other processes' edits is not running"


def test_failed_refreshes_lag_once_the_allowance_has_passed(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = LiveIndex(loaded)
    live.load()

    def unreachable(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(live, "_caught_up", unreachable)
    live.start(interval=0.01)
    try:
        deadline = time.monotonic() + 10
        while live.failures < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert live.failures >= 2
        assert not live.lag(
            database_revision=live.revision, allowance=3600, stall_after=3600
        ).lagging
        lag = live.lag(database_revision=live.revision, allowance=0, stall_after=3600)
        assert lag.lagging and lag.reason is not None and "failed" in lag.reason
        monkeypatch.undo()
        while live.failures and time.monotonic() < deadline:
            time.sleep(0.01)
        assert live.failures == 0
    finally:
        live.stop()


class SlowBuilds:
    """Builds of the index that wait until released: whole-table builds
    (``AliasIndex.build``), or another way of making one (``with_changes``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, method: str = "build") -> None:
        self.started = threading.Event()
        self.released = threading.Event()
        self.count = 0
        making = getattr(AliasIndex, method)

        def slow(*args: Any, **kwargs: Any) -> AliasIndex:
            self.count += 1
            self.started.set()
            self.released.wait(timeout=20)
            made: AliasIndex = making(*args, **kwargs)
            return made

        monkeypatch.setattr(AliasIndex, method, slow)


def replace_table(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replace import that other processes take in by rebuilding their index whole."""
    monkeypatch.setattr(store, "WHOLE_TABLE_AFTER", 0)
    with Session(engine) as session:
        table = parse_alias_file("entities:\n  - {id: kabul, name: Kabul, type: location}\n")
        store.import_table(session=session, actor="t", table=table, mode="replace")


def test_a_slow_rebuild_is_progress_while_edits_arrive_until_it_runs_past_the_stall_limit(
    loaded: Engine, theirs: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = SlowBuilds(monkeypatch)
    theirs.start(interval=0.01)
    try:
        replace_table(loaded, monkeypatch)
        assert builds.started.wait(timeout=10)
        with Session(loaded) as session:
            entity = EntityCreate(id="herat", name="Herat", type="location")
            store.create_entity(session=session, actor="t", data=entity)
            newest = store.current_revision(session=session)
        time.sleep(0.05)  # longer than the allowance below: the edits have waited
        working = theirs.lag(database_revision=newest, allowance=0.01, stall_after=3600)
        assert (working.lagging, working.reason) == (False, None)
        assert working.revisions_behind >= 2
        assert working.seconds is not None and working.seconds > 0.01
        stalled = theirs.lag(database_revision=newest, allowance=0.01, stall_after=0.01)
        assert stalled.lagging
        assert stalled.reason is not None and "without finishing" in stalled.reason
        builds.released.set()
        deadline = time.monotonic() + 10
        while theirs.revision != newest:
            assert time.monotonic() < deadline, "the rebuild did not finish"
            time.sleep(0.01)
        assert status(theirs, "Herat") is Status.MATCHED
        assert theirs.snapshot.entity_count == 2
    finally:
        builds.released.set()
        theirs.stop()


def test_a_refresher_that_fails_during_a_rebuild_lags(
    loaded: Engine, theirs: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs.start(interval=0.01)

    def unreachable(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store, "load_records", unreachable)
    try:
        replace_table(loaded, monkeypatch)
        deadline = time.monotonic() + 10
        while theirs.failures < 2:
            assert time.monotonic() < deadline, "the refreshes did not fail"
            time.sleep(0.01)
        lag = theirs.lag(database_revision=theirs.revision + 1, allowance=0, stall_after=3600)
        assert lag.lagging and lag.reason is not None and "failed" in lag.reason
    finally:
        theirs.stop()


def test_an_ordinary_refresh_that_hangs_lags_after_the_allowance_not_the_stall_limit(
    loaded: Engine, theirs: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshes = SlowBuilds(monkeypatch, "with_changes")
    theirs.start(interval=0.01)
    try:
        with Session(loaded) as session:
            entity = EntityCreate(id="herat", name="Herat", type="location")
            store.create_entity(session=session, actor="t", data=entity)
            newest = store.current_revision(session=session)
        assert refreshes.started.wait(timeout=10)
        time.sleep(0.05)
        lag = theirs.lag(database_revision=newest, allowance=0.01, stall_after=3600)
        assert lag.lagging and lag.reason is not None and "behind" in lag.reason
        assert theirs.rebuilding_for is None
    finally:
        refreshes.released.set()
        theirs.stop()


def builds_in(monkeypatch: pytest.MonkeyPatch, record: Path) -> None:
    """Have every build of the whole index add the id of the process it runs in to ``record``."""
    making = AliasIndex.build

    def noted(*args: Any, **kwargs: Any) -> AliasIndex:
        with record.open("a") as builds:
            builds.write(f"{os.getpid()}\n")
        made: AliasIndex = making(*args, **kwargs)
        return made

    monkeypatch.setattr(AliasIndex, "build", noted)


def builders(record: Path, seconds: float = 30) -> list[int]:
    """The processes that began a build, once one has (waiting at most ``seconds``):
    each added its line whole, but a child's file may be read before it has."""
    deadline = time.monotonic() + seconds
    while not (record.exists() and record.read_text().endswith("\n")):
        assert time.monotonic() < deadline, "no build began"
        time.sleep(0.05)
    return [int(pid) for pid in record.read_text().split()]


def loaded_with_builds_apart(
    engine: Engine,
    snapshot_file: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[LiveIndex, int]:
    """A live index of ``engine``'s table, loaded with every table built by a
    child process, its log captured; and the id of the process that built it."""
    builder = tmp_path / "builder"
    builds_in(monkeypatch, builder)
    caplog.set_level(logging.INFO, logger="app.live_index")
    live = LiveIndex(engine, snapshot_file=snapshot_file, build_apart_from=0)
    live.load()
    [builder_id] = builders(builder)
    return live, builder_id


def test_a_large_table_is_built_by_a_child_process_and_read_back(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "index.snapshot"
    live, builder = loaded_with_builds_apart(loaded, path, tmp_path, caplog, monkeypatch)
    assert "index loaded (built by a child process)" in caplog.text
    assert builder != os.getpid()  # the build's memory was never this process's
    assert live.wait_until_kept(timeout=30)
    assert path.exists()  # kept by the child, for the next start
    assert status(live, "TTP") is Status.MATCHED
    assert live.snapshot.entity_count == 4


def test_an_index_built_apart_is_taken_as_the_child_sent_it_not_read_from_its_file(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unread(*_args: object) -> None:
        raise AssertionError("the snapshot file was read")

    path = tmp_path / "index.snapshot"
    live = LiveIndex(loaded, snapshot_file=path, build_apart_from=0)
    monkeypatch.setattr(live_index, "read_snapshot", unread)
    caplog.set_level(logging.INFO, logger="app.live_index")
    live.load()
    assert "index loaded (built by a child process)" in caplog.text
    assert status(live, "TTP") is Status.MATCHED
    assert live.wait_until_kept(timeout=30)
    assert path.exists()


def test_an_index_built_apart_is_read_from_its_file_when_the_child_sent_nothing_ahead(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(child_pipes, "send", lambda *_args: None)
    live, builder = loaded_with_builds_apart(
        loaded, tmp_path / "index.snapshot", tmp_path, caplog, monkeypatch
    )
    assert "index loaded (built by a child process)" in caplog.text
    assert builder != os.getpid()
    assert status(live, "TTP") is Status.MATCHED


def test_a_table_below_the_threshold_is_built_in_the_serving_process(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = tmp_path / "builder"
    builds_in(monkeypatch, builder)
    LiveIndex(loaded, build_apart_from=1000).load()
    assert builders(builder) == [os.getpid()]


def test_without_a_snapshot_file_a_child_build_leaves_no_file_behind(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    live = LiveIndex(loaded, build_apart_from=0)
    live.load()
    assert status(live, "TTP") is Status.MATCHED
    assert list(tmp_path.glob("alias-index-*")) == []


def test_a_snapshot_file_in_a_folder_that_cannot_be_written_is_built_once_and_not_kept(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = tmp_path / "missing" / "index.snapshot"  # a folder no one made
    live, builder = loaded_with_builds_apart(loaded, path, tmp_path, caplog, monkeypatch)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"the index cannot be kept in {path}: its folder cannot be written"]
    assert "index loaded (built by a child process)" in caplog.text
    assert builder != os.getpid()  # built by the child alone
    assert status(live, "TTP") is Status.MATCHED
    assert list(tmp_path.glob("alias-index-*")) == []


def test_a_failing_child_build_falls_back_to_a_build_here_with_one_warning(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fails(*_args: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(child_build, "_build_and_keep", fails)
    caplog.set_level(logging.INFO, logger="app.live_index")
    live = LiveIndex(loaded, build_apart_from=0)
    live.load()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "child process failed (RuntimeError: out of memory)" in warnings[0]
    assert "index loaded (built)" in caplog.text
    assert status(live, "TTP") is Status.MATCHED


def test_a_rebuild_by_a_child_process_is_swapped_in_with_the_edits_since(
    loaded: Engine, other_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = LiveIndex(other_engine, build_apart_from=0)
    theirs.load()
    replace_table(loaded, monkeypatch)
    add_alias(loaded, "Kabol", entity_id="kabul")
    assert theirs.refresh()
    assert status(theirs, "Kabol") is Status.MATCHED
    assert status(theirs, "TTP") is Status.UNMATCHED
    assert theirs.snapshot.entity_count == 1


def test_reads_are_answered_from_the_old_index_while_a_rebuild_runs(
    loaded: Engine, theirs: LiveIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = SlowBuilds(monkeypatch)
    refreshes = [threading.Thread(target=theirs.refresh) for _ in range(2)]
    try:
        replace_table(loaded, monkeypatch)
        for refresh in refreshes:
            refresh.start()
        assert builds.started.wait(timeout=10)
        assert status(theirs, "TTP") is Status.MATCHED
        assert theirs.rebuilding_for is not None
    finally:
        builds.released.set()
        for refresh in refreshes:
            refresh.join(timeout=20)
    assert status(theirs, "Kabul") is Status.MATCHED
    assert status(theirs, "TTP") is Status.UNMATCHED
    assert builds.count == 1  # the second refresh found the first one's rebuild in


def test_without_a_snapshot_file_the_child_needs_no_room_for_a_temporary_one(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    caplog.set_level(logging.INFO, logger="app.live_index")
    live = LiveIndex(loaded, build_apart_from=0)
    live.load()
    assert "index loaded (built by a child process)" in caplog.text
    assert status(live, "TTP") is Status.MATCHED


def test_a_stop_waits_for_the_child_keeping_the_index(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = child_build.keep_snapshot

    def slow_keep(*args: Any) -> None:
        time.sleep(0.5)
        keep(*args)

    monkeypatch.setattr(child_build, "keep_snapshot", slow_keep)
    path = tmp_path / "index.snapshot"
    live = LiveIndex(loaded, snapshot_file=path, build_apart_from=0)
    live.load()
    live.stop()
    assert path.exists()


def test_a_load_begun_early_takes_the_build_its_child_began(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = tmp_path / "builders"
    builds_in(monkeypatch, record)
    caplog.set_level(logging.INFO, logger="app.live_index")
    live = LiveIndex(loaded, snapshot_file=tmp_path / "index.snapshot", build_apart_from=0)
    live.begin_load()
    [child] = builders(record)  # building before anything waits for it
    assert child != os.getpid()
    live.load()
    assert builders(record) == [child]  # the load began no other build
    assert "index loaded (built by a child process)" in caplog.text
    assert status(live, "TTP") is Status.MATCHED
    assert live.wait_until_kept(timeout=30)


def test_a_load_begun_on_a_kept_index_of_the_table_begins_no_build(
    loaded: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "index.snapshot"
    first = LiveIndex(loaded, snapshot_file=path, build_apart_from=0)
    first.load()
    assert first.wait_until_kept(timeout=30)
    record = tmp_path / "builders"
    builds_in(monkeypatch, record)
    caplog.set_level(logging.INFO, logger="app.live_index")
    live = LiveIndex(loaded, snapshot_file=path, build_apart_from=0)
    live.begin_load()
    live.load()
    assert not record.exists()
    assert "index loaded (read back)" in caplog.text
    assert status(live, "TTP") is Status.MATCHED


def test_a_stop_before_the_load_stops_the_build_it_began(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "builders"

    def hangs(*_args: object) -> None:
        record.write_text(f"{os.getpid()}\n")
        time.sleep(3600)

    monkeypatch.setattr(child_build, "_build_and_keep", hangs)
    live = LiveIndex(loaded, build_apart_from=0)
    live.begin_load()
    [child] = builders(record)
    live.stop()
    assert ended_within(child, 10)

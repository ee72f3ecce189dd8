"""A child process builds the index and keeps it in a snapshot file, or says why not."""

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app import child_build, child_pipes, store
from app.child_build import ChildBuildFailed, SentAhead, build_in_child
from app.matching.snapshot import read_snapshot, snapshot_table
from tests.processes import ended_within, orphaned_child


def table_mark(engine: Engine) -> str:
    with Session(engine) as session:
        revision = store.current_revision(session=session)
        return store.revision_mark(session=session, revision=revision) or ""


def kept_by_then(sent: SentAhead) -> SentAhead:
    """``sent``, once the child that sent it has kept its file (or failed to)."""
    if sent.keeping is not None:
        sent.keeping.join(timeout=30)
        assert not sent.keeping.is_alive()
    return sent


def test_the_child_keeps_the_index_of_the_table_under_its_revision_mark(
    loaded: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "index.snapshot"
    kept_by_then(build_in_child(loaded, path, workers=1))
    mark = table_mark(loaded)
    assert snapshot_table(path) == mark
    segment = read_snapshot(path, mark)
    assert segment is not None and len(segment.entities) == 4


def test_a_child_that_fails_says_why(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(child_build, "_build_and_keep", fails)
    with pytest.raises(ChildBuildFailed, match="RuntimeError: the database went away"):
        build_in_child(loaded, tmp_path / "index.snapshot", workers=1)
    assert not (tmp_path / "index.snapshot").exists()


def test_a_child_past_its_time_limit_is_stopped(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stuck(*_args: object) -> None:
        time.sleep(60)

    monkeypatch.setattr(child_build, "_build_and_keep", stuck)
    started = time.monotonic()
    with pytest.raises(ChildBuildFailed, match=r"not done in 0\.2 s"):
        build_in_child(loaded, tmp_path / "index.snapshot", workers=1, time_limit=0.2)
    assert time.monotonic() - started < 10


def test_the_child_sends_its_keys_and_its_segment_ahead(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "index.snapshot"
    sent = kept_by_then(build_in_child(loaded, path, workers=1))
    kept = read_snapshot(path, table_mark(loaded))
    assert kept is not None and sent.snapshot is not None and sent.automaton is not None
    table, segment = sent.snapshot
    assert table == table_mark(loaded)
    assert segment.spotting.packed_keys() == kept.spotting.packed_keys()
    assert segment.entities.keys() == kept.entities.keys()
    made = sent.automaton
    assert (made.key_text, made.key_lengths) == kept.spotting.packed_keys()
    assert made.automaton.get(" ttp", -1) == kept.spotting.number("ttp") >= 0


def test_a_child_that_sends_nothing_ahead_still_keeps_its_index(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(child_pipes, "send", lambda *_args: None)
    path = tmp_path / "index.snapshot"
    assert build_in_child(loaded, path, workers=1) == SentAhead(None, None)
    assert read_snapshot(path, table_mark(loaded)) is not None


def test_a_child_that_sent_its_segment_but_could_not_keep_it_is_only_warned_of(
    loaded: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def disk_full(*_args: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(child_build, "keep_snapshot", disk_full)
    path = tmp_path / "index.snapshot"
    sent = kept_by_then(build_in_child(loaded, path, workers=1))
    assert sent.snapshot is not None and len(sent.snapshot[1].entities) == 4
    assert f"not kept in {path}: OSError: No space left on device" in caplog.text
    assert not path.exists()


def test_the_segment_is_taken_as_soon_as_it_came_while_the_child_keeps_its_file(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    go = tmp_path / "go"
    keep = child_build.keep_snapshot

    def kept_when_told(*args: Any) -> None:
        waited = time.monotonic()
        while not go.exists() and time.monotonic() - waited < 20:
            time.sleep(0.01)
        keep(*args)

    monkeypatch.setattr(child_build, "keep_snapshot", kept_when_told)
    path = tmp_path / "index.snapshot"
    sent = build_in_child(loaded, path, workers=1)
    assert sent.snapshot is not None and sent.keeping is not None
    assert not path.exists()  # the child is still keeping it
    go.touch()
    kept_by_then(sent)
    assert read_snapshot(path, table_mark(loaded)) is not None


def test_without_a_file_to_keep_the_child_only_sends(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sent = kept_by_then(build_in_child(loaded, None, workers=1))
    assert sent.snapshot is not None and len(sent.snapshot[1].entities) == 4
    assert sent.automaton is not None
    written = [p.name for p in tmp_path.iterdir() if not p.name.startswith("alias-service.db")]
    assert written == []


def test_a_child_whose_server_is_killed_stops(tmp_path: Path) -> None:
    """A server killed outright (SIGKILL, the out-of-memory killer) leaves no
    build running beside its successor's."""
    child = orphaned_child(
        "from app import child_build, db",
        "child_build._build_and_keep",
        f'child_build.build_in_child(db.make_engine("sqlite:///{tmp_path}/t.db"), None, workers=1)',
        tmp_path / "child.pid",
    )
    assert ended_within(child, 10 * child_pipes.ORPHAN_CHECK_INTERVAL)

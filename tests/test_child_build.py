"""A child process builds the index and keeps it in a snapshot file, or says why not."""

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app import child_build, store
from app.child_build import ChildBuildFailed, build_in_child
from app.matching.snapshot import read_snapshot, snapshot_table


def test_the_child_keeps_the_index_of_the_table_under_its_revision_mark(
    loaded: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "index.snapshot"
    build_in_child(loaded, path, workers=1)
    with Session(loaded) as session:
        revision = store.current_revision(session=session)
        mark = store.revision_mark(session=session, revision=revision)
    assert snapshot_table(path) == mark
    segment = read_snapshot(path, mark or "")
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

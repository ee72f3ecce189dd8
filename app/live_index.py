"""Keep this process's index snapshot in step with the database.

The database is the source of truth. Each process holds an immutable
:class:`AliasIndex` and swaps in a new one after every change, so a request
sees the table before or after a change, never half of it. Changes made by
this process are applied before its request returns (``refresh``); changes
made by other processes and replicas are noticed by a background thread that
reads the table revision every ``interval`` seconds.
"""

import gc
import logging
import threading
import time

from sqlalchemy import Engine
from sqlmodel import Session

from app import declared_types, store
from app.matching.index import AliasIndex

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Take the long-lived index out of the cyclic garbage collector's rounds.

    A full collection would walk its millions of objects and stall a request
    for tens of milliseconds; they are freed by reference counting anyway.
    """
    gc.collect()
    gc.freeze()


class LiveIndex:
    def __init__(self, engine: Engine, *, compact_after: int = 5000) -> None:
        self._engine = engine
        self._compact_after = compact_after
        self._snapshot = AliasIndex()
        self._revision = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    @property
    def snapshot(self) -> AliasIndex:
        return self._snapshot

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def loaded(self) -> bool:
        return self._revision >= 0

    def load(self) -> None:
        """Build the whole index from the database."""
        started = time.perf_counter()
        with Session(self._engine) as session:
            revision = store.current_revision(session=session)
            index = _with_declared_types(
                session, AliasIndex.build(store.load_records(session=session))
            )
        with self._lock, Session(self._engine) as session:
            # Edits committed while the table was read (some perhaps already
            # served from the old snapshot) go in before the swap.
            self._snapshot, self._revision = self._caught_up(session, index, revision)
        settle_heap()
        log.info(
            "index loaded: %d entities, %d aliases, revision %d, in %.2f s",
            index.entity_count,
            index.alias_count,
            revision,
            time.perf_counter() - started,
        )

    def refresh(self) -> bool:
        """Apply the changes committed since this snapshot; whether there were any."""
        with self._lock, Session(self._engine) as session:
            snapshot, revision = self._caught_up(session, self._snapshot, self._revision)
            changed = revision != self._revision
            self._snapshot, self._revision = snapshot, revision
        return changed

    @staticmethod
    def _caught_up(session: Session, index: AliasIndex, revision: int) -> tuple[AliasIndex, int]:
        """``index`` (as of ``revision``) with the changes committed since applied."""
        if store.current_revision(session=session) == revision:
            return index, revision
        changes = store.changes_since(session=session, revision=revision)
        if changes.whole_table:
            index = AliasIndex.build(store.load_records(session=session))
        else:
            upserts = store.load_records(session=session, entity_ids=changes.entity_ids)
            index = index.with_changes(upserts, removed=changes.entity_ids)
        return _with_declared_types(session, index), changes.revision

    def start(self, interval: float) -> None:
        """Watch for other processes' changes in a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, args=(interval,), name="index-refresh", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.refresh()
                if self._snapshot.overlay_size > self._compact_after:
                    self.load()
                self.last_error = None
            except Exception as error:  # keep serving the last good snapshot
                if self.last_error is None:
                    log.warning("index refresh failed: %s", error)
                self.last_error = str(error)


def _with_declared_types(session: Session, index: AliasIndex) -> AliasIndex:
    # A small table, read again at each new revision: a change may declare types alone.
    return index.with_declared_types(declared_types.declared_ids(session=session))

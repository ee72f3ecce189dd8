"""Keep this process's index snapshot in step with the database.

The database is the source of truth. Each process holds an immutable
:class:`AliasIndex` and swaps in a new one after every change, so a request
sees the table before or after a change, never half of it. Changes made by
this process are applied before its request returns (``refresh``); changes
made by other processes and replicas are noticed by a background thread that
reads the table revision every ``interval`` seconds.

With a snapshot file, a start on a table whose index was built before reads
that index back instead of building it again, and catches up with the edits
committed since it was kept. A large table's whole index (at a first start,
after a ``replace`` import, a large merge or many edits) is built by a forked
child process that keeps it in the snapshot file (a temporary file without
one) and exits; this process reads it back, so the build's garbage and the
heap it scatters never live in the serving process (``app.child_build``).
A small table's index, or one whose child failed, is built here; a start
that built it so keeps it in the snapshot file from a forked child process,
so that serving does not wait.

A rebuild of the whole index runs one at a time, while the old snapshot
answers every read: a refresh that comes meanwhile waits for it and finds
its changes taken in, and the rebuilt index catches up with the edits
committed during its build before it is swapped in (never over a snapshot
that went further).

Readiness asks whether the index keeps up (``lag``): whether the watching
thread still runs, whether its refreshes keep failing, and whether it makes
progress. A rebuild of the whole index under way counts as progress, however
long the edits it takes in have waited, until it has run past a stall limit:
a rebuild (after a large ``replace`` import, or a compaction) reaches every
process at once, and they must not all turn unready together while they work.
An ordinary refresh that hangs makes no progress.
"""

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import Engine
from sqlmodel import Session

from app import child_pipes, declared_types, store
from app.child_build import ChildBuild, ChildBuildFailed, SentAhead
from app.db import make_engine
from app.heap import freeze_and_trim
from app.matching.derived_forms import PARALLEL_FROM_FORMS
from app.matching.index import AliasIndex, Segment
from app.matching.snapshot import (
    not_a_place_for_snapshots,
    read_snapshot,
    snapshot_table,
    write_snapshot,
)
from app.matching.spotting_keys import KeysAutomaton
from app.settings import Settings

log = logging.getLogger(__name__)

# A table of this many aliases or more is built by a child process (``LiveIndex``).
BUILD_APART_FROM = PARALLEL_FROM_FORMS
# A stop waits this long at most for a child process keeping the index it sent:
# a million aliases' file is written in about a second.
KEEPING_WAIT = 30.0


def _building_here(error: Exception) -> None:
    """Say why the child process did not build the index (it is built here instead)."""
    log.warning("index build by a child process failed (%s): building it here", error)


class LiveIndex:
    def __init__(
        self,
        engine: Engine,
        *,
        compact_after: int = 5000,
        snapshot_file: Path | None = None,
        keep_snapshot: bool = True,
        build_workers: int = 1,
        build_apart_from: int = BUILD_APART_FROM,
    ) -> None:
        self._engine = engine
        # Processes that build the whole index (``AliasIndex.build``).
        self._build_workers = build_workers
        # Tables of this many aliases or more are built by a child process.
        self._build_apart_from = build_apart_from
        if snapshot_file is not None and (refusal := not_a_place_for_snapshots(snapshot_file)):
            log.warning(
                "INDEX_SNAPSHOT %s is %s: the index is neither read from it nor kept in it",
                snapshot_file,
                refusal,
            )
            snapshot_file = None
        self._snapshot_file = snapshot_file
        # False: the snapshot file is read back, never written, and no child is
        # forked, to build the index or to keep it (a caller with threads running).
        self._keep_snapshot = keep_snapshot
        self._compact_after = compact_after
        self._snapshot = AliasIndex()
        self._revision = -1
        self._lock = threading.Lock()  # orders the refreshes and swaps
        self._rebuild_lock = threading.Lock()  # one rebuild of the whole index at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Waits while the child process of the last build apart keeps its file.
        self._keeping: threading.Thread | None = None
        # time.monotonic() when it last held the database's newest revision
        self._caught_up_at: float | None = None
        # time.monotonic() when it last finished catching up
        self._refreshed_at: float | None = None
        # time.monotonic() when the rebuild of the whole index under way began
        self._rebuilding_since: float | None = None
        self.last_error: str | None = None
        self.failures = 0  # refreshes of the watching thread failed in a row
        # A first load's build by a child process, begun before ``load``
        # (``begin_load``), and time.perf_counter() when the load began.
        self._begun: ChildBuild | None = None
        self._began_at = 0.0

    @classmethod
    def for_settings(cls, settings: Settings) -> "LiveIndex":
        """The live index of the service's database, as ``settings`` configure it."""
        return cls(
            make_engine(settings.database_url),
            snapshot_file=settings.index_snapshot,
            build_workers=settings.index_build_workers(),
        )

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def snapshot(self) -> AliasIndex:
        return self._snapshot

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def loaded(self) -> bool:
        return self._revision >= 0

    @property
    def refresh_age(self) -> float | None:
        """Seconds since the index last held the database's newest revision
        (None before the first load)."""
        if self._caught_up_at is None:
            return None
        return time.monotonic() - self._caught_up_at

    @property
    def watching(self) -> bool:
        """Whether the thread that takes in other processes' edits runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def rebuilding_for(self) -> float | None:
        """Seconds the current rebuild of the whole index (after a ``replace``
        import elsewhere, or a compaction) has run; None when none runs."""
        since = self._rebuilding_since
        return None if since is None else time.monotonic() - since

    def lag(self, *, database_revision: int, allowance: float, stall_after: float) -> "Lag":
        """How stale the index is beside ``database_revision``, read just now.

        Lagging when nothing watches for edits any more; when its refreshes
        have failed for longer than ``allowance`` seconds; when a rebuild of the
        whole index has run for longer than ``stall_after`` seconds; or when it
        misses edits and has neither finished a refresh for longer than
        ``allowance`` nor is rebuilding. A rebuild is progress: every replica
        makes it at once, and none should leave its proxy for it; an ordinary
        refresh that hangs is not.
        """
        behind = max(database_revision - self._revision, 0)
        age = self.refresh_age
        rebuilding_for = self.rebuilding_for
        reason = None
        if not self.watching:
            reason = "the thread that takes in other processes' edits is not running"
        elif self.failures and (age is None or age > allowance):
            reason = f"the index refresh failed {self.failures} times in a row"
        elif rebuilding_for is not None and rebuilding_for > stall_after:
            reason = f"the index rebuild has run for {rebuilding_for:.0f} s without finishing"
        elif behind and rebuilding_for is None and self._idle_for() > allowance:
            reason = (
                f"the index is {behind} revision{'' if behind == 1 else 's'} behind the database"
            )
        return Lag(
            lagging=reason is not None,
            seconds=age if behind else 0.0,
            revisions_behind=behind,
            reason=reason,
        )

    def _idle_for(self) -> float:
        """Seconds since the index last finished catching up (infinite before that)."""
        finished = self._refreshed_at
        return float("inf") if finished is None else time.monotonic() - finished

    def begin_load(self) -> None:
        """Begin what ``load`` waits on longest, and return at once: the build
        of a large table's index by a child process, unless the snapshot file
        holds this database's table. Its caller does other work meanwhile (the
        web application imported and made), then calls ``load``."""
        if self.loaded or self._begun is not None:
            return
        self._began_at = time.perf_counter()
        kept = self._snapshot_file
        if kept is None or self._kept_table(kept) is None:
            self._begun = self._child_build()

    def load(self) -> None:
        """Load the whole index: from the snapshot file when it holds this
        database's table, else built from the database (and then kept there)."""
        if self._begun is not None:
            started = self._began_at
        else:
            started = time.perf_counter()
            kept = self._kept_index(self._snapshot_file)
            if kept is not None:
                self._swap_in(*kept, started, "read back")
                return
        built_apart = self._build_in_child()
        if built_apart is not None:
            self._swap_in(*built_apart, started, "built by a child process")
            return
        index, revision = self._build_here()
        self._swap_in(index, revision, started, "built")
        self._keep(index, revision)

    def _build_whole(self) -> tuple[AliasIndex, int]:
        """The index of the whole table and its revision: built by a child
        process and read back for a large table, else built here."""
        return self._build_in_child() or self._build_here()

    def _build_in_child(self) -> tuple[AliasIndex, int] | None:
        """The whole index, built by a child process (the one ``begin_load``
        began, else one begun now) that sends it here and keeps it in the
        snapshot file, if there is one it can write (read back from there when
        nothing came whole); None for a small table, and (with a warning) when
        the child fails."""
        build, self._begun = self._begun or self._child_build(), None
        if build is None:
            return None
        try:
            sent = build.sent_ahead()
        except ChildBuildFailed as error:
            _building_here(error)
            return None
        self._keeping = sent.keeping
        if sent.snapshot is not None:  # the very segment the child keeps in its file
            built = self._sent_index(sent)
        else:
            built = self._kept_index(build.path, sent.automaton)
        if built is None:
            log.warning("index built by a child process could not be read back: building it here")
        return built

    def _child_build(self) -> ChildBuild | None:
        """A build of the whole index by a child process, begun now; None for a
        small table, and (with a warning) when no child could be forked."""
        if not self._is_large_table():
            return None
        try:
            return ChildBuild(self._engine, self._build_file(), workers=self._build_workers)
        except (ChildBuildFailed, OSError) as error:  # OSError: no pipe to the child
            _building_here(error)
            return None

    def _is_large_table(self) -> bool:
        """Whether the table is built by a child process: large enough, and forking allowed."""
        if not self._keep_snapshot:
            return False
        with Session(self._engine) as session:
            return store.alias_count(session=session) >= self._build_apart_from

    def _build_file(self) -> Path | None:
        """Where a child process keeps the index it builds: the snapshot file,
        unless none is kept or its folder cannot be written (said in a
        warning: the child would fail to keep it there)."""
        kept = self._snapshot_file if self._keep_snapshot else None
        if kept is not None and not os.access(kept.parent, os.W_OK | os.X_OK):
            log.warning("the index cannot be kept in %s: its folder cannot be written", kept)
            return None
        return kept

    def wait_until_kept(self, timeout: float | None = None) -> bool:
        """Wait, at most ``timeout`` seconds, for the child process of the last
        build apart to end, its index kept; whether it has."""
        keeping = self._keeping
        if keeping is not None:
            keeping.join(timeout)
            return not keeping.is_alive()
        return True

    def _build_here(self) -> tuple[AliasIndex, int]:
        """The index of the whole table and its revision, built in this process."""
        with Session(self._engine) as session:
            revision = store.current_revision(session=session)
            records = store.load_records(session=session)
            index = AliasIndex.build(records, workers=self._build_workers)
            return _with_declared_types(session, index), revision

    def _swap_in(self, index: AliasIndex, revision: int, started: float, how: str) -> None:
        with self._lock, Session(self._engine) as session:
            # Edits committed while the table was read (some perhaps already
            # served from the old snapshot) go in before the swap. Should they
            # need a rebuild of their own, it is swapped in as it is, and the
            # next refresh rebuilds.
            asked_at = time.monotonic()
            caught_up = self._caught_up(session, index, revision)
            newer = caught_up or (index, revision)
            if newer[1] < self._revision:  # another swap went further meanwhile
                return
            self._snapshot, self._revision = newer
            if caught_up is not None:
                self._caught_up_at, self._refreshed_at = asked_at, time.monotonic()
        freeze_and_trim()
        log.info(
            "index loaded (%s): %d entities, %d aliases, revision %d, in %.2f s",
            how,
            index.entity_count,
            index.alias_count,
            revision,
            time.perf_counter() - started,
        )

    def _kept_index(
        self, path: Path | None, made: KeysAutomaton | None = None
    ) -> tuple[AliasIndex, int] | None:
        """The index kept in the snapshot file ``path`` and its revision, if of
        this table (see ``_ready_index`` for ``made``)."""
        if path is None or (kept := self._kept_table(path)) is None:
            return None
        table, revision = kept
        segment = read_snapshot(path, table)
        if segment is None:
            log.warning("index snapshot %s is damaged: building the index", path)
            return None
        return self._ready_index(segment, revision, made)

    def _kept_table(self, path: Path) -> tuple[str, int] | None:
        """The table the snapshot file ``path`` holds the index of, and its
        revision, if this database's table is that table."""
        table = snapshot_table(path) or ""
        revision = self._revision_if_current(table)
        return None if revision is None else (table, revision)

    def _sent_index(self, sent: SentAhead) -> tuple[AliasIndex, int] | None:
        """The index a child process sent through its pipe, and its revision, if of this table."""
        if sent.snapshot is None:
            return None
        table, segment = sent.snapshot
        revision = self._revision_if_current(table)
        return None if revision is None else self._ready_index(segment, revision, sent.automaton)

    def _revision_if_current(self, table: str) -> int | None:
        """The revision of a snapshot's ``table`` if it is this database's table's."""
        revision = _revision_of(table)
        if revision is None:
            return None
        with Session(self._engine) as session:
            if store.revision_mark(session=session, revision=revision) != table:
                return None
        return revision

    def _ready_index(
        self, segment: Segment, revision: int, made: KeysAutomaton | None
    ) -> tuple[AliasIndex, int]:
        """The index of a segment read back, ready to search: its automaton made
        here, or ``made`` if it is of its keys."""
        segment.spotting.make_automaton(made)
        with Session(self._engine) as session:
            return _with_declared_types(session, AliasIndex(base=segment)), revision

    def _keep(self, index: AliasIndex, revision: int) -> None:
        """Write ``index`` to the snapshot file from a forked child process.

        The child shares the index's memory and leaves this process free to
        serve; what it writes replaces the file whole or not at all.
        """
        if self._snapshot_file is None or not self._keep_snapshot:
            return
        with Session(self._engine) as session:
            table = store.revision_mark(session=session, revision=revision)
        if table is None:
            return
        # The child uses neither the database nor anything of this process's
        # threads, and leaves by os._exit: nothing of the parent is closed twice.
        reading, writing = os.pipe()
        try:
            child = os.fork()
        except OSError as error:  # the index serves all the same, only not kept
            os.close(reading)
            os.close(writing)
            log.warning("index could not be kept in %s: %s", self._snapshot_file, error)
            return
        if child == 0:  # pragma: no cover (the child's coverage is not collected)
            status = 1
            try:
                os.close(reading)
                write_snapshot(self._snapshot_file, index.base, table)
                status = 0
            except BaseException as error:
                child_pipes.report_failure(writing, error)
            finally:
                os._exit(status)
        os.close(writing)
        # Whatever else is forked meanwhile holds the writing end too: never wait on it.
        os.set_blocking(reading, False)
        threading.Thread(
            target=_report_kept,
            args=(child, os.fdopen(reading, "rb"), self._snapshot_file),
            name="index-keeper",
            daemon=True,
        ).start()

    def refresh(self) -> bool:
        """Apply the changes committed since this snapshot; whether there were any.

        Changes that need the whole index rebuilt are built outside the lock
        (``_rebuild``); a thread that waited for another's rebuild finds its
        changes taken in by it.
        """
        before = self._revision
        while True:
            seen = self._revision
            if self._caught_up_in_place():
                return self._revision != before
            with self._rebuild_lock:
                # Nothing taken in since the changes were read (after an import
                # of 400k aliases, a quarter of a second to read): they need it still.
                if self._revision == seen or not self._caught_up_in_place():
                    self._rebuild()

    def _caught_up_in_place(self) -> bool:
        """Apply the changes committed since this snapshot, unless they need the
        whole index rebuilt: False then, and nothing applied."""
        with self._lock, Session(self._engine) as session:
            asked_at = time.monotonic()
            caught_up = self._caught_up(session, self._snapshot, self._revision)
            if caught_up is None:
                return False
            self._snapshot, self._revision = caught_up
            self._caught_up_at, self._refreshed_at = asked_at, time.monotonic()
        return True

    def _rebuild(self) -> None:
        """Build the whole index anew while the old snapshot serves, and swap it
        in once it has caught up. The caller holds ``_rebuild_lock``."""
        started = time.perf_counter()
        with self._rebuilding():
            index, revision = self._build_whole()
        self._swap_in(index, revision, started, "rebuilt")

    def _caught_up(
        self, session: Session, index: AliasIndex, revision: int
    ) -> tuple[AliasIndex, int] | None:
        """``index`` (as of ``revision``) with the changes committed since
        applied; None when they need the whole index rebuilt."""
        if store.current_revision(session=session) == revision:
            return index, revision
        changes = store.changes_since(session=session, revision=revision)
        if changes.whole_table or self._would_compact(index, changes.entity_ids):
            return None
        upserts = store.load_records(session=session, entity_ids=changes.entity_ids)
        index = index.with_changes(upserts, removed=changes.entity_ids)
        return _with_declared_types(session, index), changes.revision

    def _would_compact(self, index: AliasIndex, changed: frozenset[str]) -> bool:
        """Whether applying ``changed`` would leave an overlay that the watching thread
        compacts at once: a large merge import is then built into the index once, not
        into an overlay first (and held beside the rebuild that replaces it)."""
        return index.overlay_size + len(changed) > self._compact_after

    def start(self, interval: float) -> None:
        """Watch for other processes' changes in a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, args=(interval,), name="index-refresh", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._begun is not None:  # begun, never loaded
            self._begun.stop()
            self._begun = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        # A stop just after a build apart: its file is kept before this process goes.
        self.wait_until_kept(timeout=KEEPING_WAIT)

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.refresh()
                if self._snapshot.overlay_size > self._compact_after:
                    with self._rebuild_lock:
                        # A refresh of a request may have rebuilt it meanwhile.
                        if self._snapshot.overlay_size > self._compact_after:
                            self._rebuild()
                self.last_error, self.failures = None, 0
            except Exception as error:  # keep serving the last good snapshot
                if self.last_error is None:
                    log.warning("index refresh failed: %s", error)
                self.last_error = str(error)
                self.failures += 1

    @contextmanager
    def _rebuilding(self) -> Iterator[None]:
        self._rebuilding_since = time.monotonic()
        try:
            yield
        finally:
            self._rebuilding_since = None


@dataclass(frozen=True, slots=True)
class Lag:
    """How far behind the database a process's index is (see ``LiveIndex.lag``)."""

    lagging: bool
    # Since it last held the newest revision: 0 when it holds it, None if it never did.
    seconds: float | None
    revisions_behind: int
    reason: str | None  # why it is lagging


def _with_declared_types(session: Session, index: AliasIndex) -> AliasIndex:
    # A small table, read again at each new revision: a change may declare types alone.
    return index.with_declared_types(declared_types.declared_ids(session=session))


def _revision_of(table: str) -> int | None:
    """The revision that ``store.revision_mark`` wrote first."""
    head = table.partition(":")[0]
    return int(head) if head.isdigit() else None


def _report_kept(child: int, reasons: IO[bytes], path: Path) -> None:
    """Say whether the child kept the index in ``path``, and if not, why."""
    with reasons:
        try:
            _, status = os.waitpid(child, 0)
        except ChildProcessError:  # reaped by a supervisor that waits for any child
            return
        code = os.waitstatus_to_exitcode(status)
        if code == 0:
            log.info("index kept in %s", path)
        else:
            reason = child_pipes.read_reason(reasons) or f"the child exited with code {code}"
            log.warning("index could not be kept in %s: %s", path, reason)

"""Build the whole index in a forked child process that keeps it in a snapshot file.

A build of a large table makes millions of short-lived objects (the records
read from the database, each form's keys, the runs its workers send back) and
leaves the heap of the process that made it scattered with what it freed: at
a million aliases a process that built its index holds about 200 MiB more
than one that read the same index back from a snapshot file. Built by a child
that keeps the snapshot and exits, the build's memory leaves with the child;
the serving process reads the index back (``LiveIndex``), as a restart would.

The child sends through a pipe what the serving process needs, as soon as it
has it, so that the two work at once on the machine's cores:

* the spotting keys, batch after batch as they are numbered: the serving
  process adds them to their automaton as they come, and makes it once the
  last has come (``AutomatonMaker``; a snapshot holds the keys alone) while
  the child finishes the build;
* the segment itself, pickled into the pipe as it is pickled, which the
  serving process unpickles as it comes, before the child pickles it again
  for the file.

Once the segment has come whole, the serving process takes it and goes on:
the child keeps its file meanwhile (a thread waits for it, and warns if it
could not). With no file to keep, the child only sends.
"""

import contextlib
import gc
import io
import logging
import os
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, NoReturn

from sqlalchemy import Engine
from sqlmodel import Session

from app import child_pipes, store
from app.matching.index import AliasIndex, Segment
from app.matching.snapshot import keep_snapshot, pickled, pickled_to, unpickled
from app.matching.spotting_keys import AutomatonMaker, KeysAutomaton, pack_keys

log = logging.getLogger(__name__)

# A child that has not kept its index after this many seconds is stuck (a
# lock held by another thread of the process it was forked from, say) and is
# stopped: the caller builds the index itself. A million aliases take about
# half a minute on two cores.
TIME_LIMIT = 30 * 60.0
# What each batch of keys sent ahead begins with: whether more follow (_MORE_KEYS,
# or _KEYS_DONE with no keys), the lengths of their text and of their lengths' array.
_KEYS_HEADER = struct.Struct("<cQQ")
_MORE_KEYS, _KEYS_DONE = b"k", b"."
# And the segment after them: the length of its table's mark, then the segment pickled.
_TABLE_HEADER = struct.Struct("<Q")


class ChildBuildFailed(Exception):
    """The child could not be forked, failed, or ran past its time limit."""


@dataclass(frozen=True)
class SentAhead:
    """What the child sent through the pipe, each None if it did not come whole."""

    automaton: KeysAutomaton | None  # made here of the spotting keys it sent
    snapshot: tuple[str, Segment] | None  # the table it built from, and the segment
    # Once the segment came whole: the thread that waits while the child keeps its file.
    keeping: threading.Thread | None = field(default=None, compare=False)


def build_in_child(
    engine: Engine, path: Path | None, *, workers: int, time_limit: float = TIME_LIMIT
) -> SentAhead:
    """Build the index of the table in ``engine``'s database in a forked child
    process, its forms derived by ``workers`` processes, and keep it in ``path``
    (``keep_snapshot``, under the table's ``store.revision_mark``) unless None.

    Returns as soon as the segment has come whole: the child keeps its file
    meanwhile, and a warning says so if it cannot (``SentAhead.keeping``).
    Else returns once the child has ended, and raises ``ChildBuildFailed`` if
    it failed.
    """
    return ChildBuild(engine, path, workers=workers, time_limit=time_limit).sent_ahead()


class ChildBuild:
    """A build of the index in a forked child process (``build_in_child``),
    started when made: its caller may do other work before it waits for what
    the child sends (``sent_ahead``), which the pipe keeps meanwhile."""

    def __init__(
        self, engine: Engine, path: Path | None, *, workers: int, time_limit: float = TIME_LIMIT
    ) -> None:
        """Forks the child; raises ``ChildBuildFailed`` if the system refuses."""
        self.path = path
        reading, writing = os.pipe()
        sent_in, sent_out = os.pipe()
        parent = os.getpid()
        try:
            child = os.fork()
        except OSError as error:
            for end in (reading, writing, sent_in, sent_out):
                os.close(end)
            raise ChildBuildFailed(f"no child process: {error}") from error
        if child == 0:  # pragma: no cover (the child's coverage is not collected)
            os.close(reading)
            os.close(sent_in)
            _run_child(engine, path, workers, writing, sent_out, parent)
        os.close(writing)
        os.close(sent_out)
        with contextlib.suppress(OSError):  # as the child does itself: whichever runs first
            os.setpgid(child, child)
        self._ending = _Ending(child, reading, time.monotonic() + time_limit, time_limit)
        self._sent_in = sent_in  # its size set now: the child may send before it is read
        self._sent = child_pipes.PipeReader(sent_in, child, self._ending.deadline)

    def sent_ahead(self) -> SentAhead:
        """What the child sends, as ``build_in_child`` returns it. Asked once,
        or never if the build is stopped."""
        ending = self._ending
        try:
            sent = _sent_ahead(self._sent)
        except BaseException:  # this process interrupted: the child goes with it
            ending.stop()
            raise
        finally:
            os.close(self._sent_in)
        if sent.snapshot is None:
            reason = ending.failure()
            if reason is not None:
                raise ChildBuildFailed(reason)
            return sent
        # Built and sent whole: the index serves, whether the child keeps it or not.
        keeping = threading.Thread(
            target=_warn_if_not_kept,
            args=(ending, self.path),
            name="index-keeping",
            daemon=True,
        )
        keeping.start()
        return replace(sent, keeping=keeping)

    def stop(self) -> None:
        """Kill the child and its workers, what they send unread (instead of ``sent_ahead``)."""
        os.close(self._sent_in)
        self._ending.stop()


def _warn_if_not_kept(ending: "_Ending", path: Path | None) -> None:
    reason = ending.failure()
    if reason is not None:
        log.warning("index built by a child process but not kept in %s: %s", path, reason)


class _Ending:
    """How a child ends: its exit awaited until ``deadline`` (the end of its
    ``time_limit``), and the reason it gives for a failure through ``reasons``."""

    def __init__(self, child: int, reasons: int, deadline: float, time_limit: float) -> None:
        self.child, self.deadline, self._time_limit = child, deadline, time_limit
        # The child's own workers inherit the pipe and may outlive it: never
        # wait on them without a limit.
        os.set_blocking(reasons, False)
        self._reasons = os.fdopen(reasons, "rb")

    def failure(self) -> str | None:
        """None once the child has ended well; else why it failed (stopped past its limit)."""
        with self._reasons:
            try:
                status = _exit_status(self.child, self.deadline, self._time_limit)
            except ChildBuildFailed as error:
                return str(error)
            if status == 0:
                return None
            reason = child_pipes.read_reason(self._reasons)
            return reason or f"the child exited with code {status}"

    def stop(self) -> None:
        """Kill the child and its workers."""
        self._reasons.close()
        child_pipes.stop_group(self.child)


def _sent_ahead(pipe: child_pipes.PipeReader) -> SentAhead:
    """The keys' automaton, made here, and the snapshot, as they come."""
    stream = io.BufferedReader(pipe, child_pipes.PIPE_BYTES)
    try:
        automaton = _automaton_sent(stream)
        if automaton is None:
            return SentAhead(None, None)
        size = _read_whole(stream, _TABLE_HEADER.size)
        table = None if size is None else _read_whole(stream, *_TABLE_HEADER.unpack(size))
    except TimeoutError:
        return SentAhead(None, None)
    if table is None:
        return SentAhead(automaton, None)
    # Unpickled as it comes: never held whole beside what it becomes.
    segment = unpickled(stream)
    return SentAhead(automaton, None if segment is None else (table.decode(), segment))


def _automaton_sent(stream: IO[bytes]) -> KeysAutomaton | None:
    """The automaton of the keys sent, batch after batch; None if they did not all come."""
    maker = AutomatonMaker()
    while (header := _read_whole(stream, _KEYS_HEADER.size)) is not None:
        more, text_size, lengths_size = _KEYS_HEADER.unpack(header)
        if more == _KEYS_DONE:
            return maker.made()
        text, lengths = _read_whole(stream, text_size), _read_whole(stream, lengths_size)
        if text is None or lengths is None:
            return None
        maker.add(text, lengths)
    return None


def _read_whole(stream: IO[bytes], size: int) -> bytes | None:
    """The next ``size`` bytes; None if the child ended before it sent them."""
    data = stream.read(size)
    return data if len(data) == size else None


def _exit_status(child: int, deadline: float, time_limit: float) -> int:
    """The child's exit code once it has ended; stopped with its workers past
    ``deadline``, the end of its ``time_limit``."""
    ended = False
    try:
        while time.monotonic() < deadline:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                ended = True
                return os.waitstatus_to_exitcode(status)
            time.sleep(child_pipes.POLL_INTERVAL)
        raise ChildBuildFailed(f"not done in {time_limit:g} s")
    except ChildProcessError as error:  # reaped by a supervisor that waits for any child
        ended = True
        raise ChildBuildFailed("its exit status was taken by another waiter") from error
    finally:
        if not ended:  # past the limit, or this process interrupted
            child_pipes.stop_group(child)


def _run_child(
    engine: Engine, path: Path | None, workers: int, report: int, sending: int, parent: int
) -> NoReturn:  # pragma: no cover
    status = 1
    try:
        with contextlib.suppress(OSError):  # its workers in its group: stopped with it
            os.setpgid(0, 0)
        # A server killed outright leaves no build running beside its successor's.
        child_pipes.stop_when_orphaned(parent)
        # The pool's connections belong to the parent: leave them to it.
        engine.dispose(close=False)
        # Everything the child makes lives until it exits: the cyclic collector's
        # rounds over the million records would find nothing to free.
        gc.disable()
        _build_and_keep(engine, path, workers, sending)
        status = 0
    except BaseException as error:
        child_pipes.report_failure(report, error)
    finally:
        os._exit(status)


def _build_and_keep(engine: Engine, path: Path | None, workers: int, sending: int) -> None:
    started = time.perf_counter()
    with Session(engine) as session:
        revision = store.current_revision(session=session)
        table = store.revision_mark(session=session, revision=revision)
        if table is None:
            raise ValueError("the table has no committed change to name its index by")
        records = store.load_records(session=session)
    read = time.perf_counter()
    segment = AliasIndex.build(records, workers=workers, keys_numbered=_KeysSent(sending)).base
    built = time.perf_counter()
    _send_segment(sending, table, segment)
    os.close(sending)
    if path is not None:
        keep_snapshot(path, pickled(segment), table)
    log.info(
        "index built by a child process: records read in %.1f s, built in %.1f s, sent%s in %.1f s",
        read - started,
        built - read,
        "" if path is None else " and kept",
        time.perf_counter() - built,
    )


@dataclass(frozen=True)
class _KeysSent:  # pragma: no cover
    """Sends the build's spotting keys through the pipe as they are numbered."""

    pipe: int

    def numbered(self, keys: list[str]) -> None:
        text, lengths = pack_keys(keys)
        sizes = _KEYS_HEADER.pack(_MORE_KEYS, len(text), len(lengths) * lengths.itemsize)
        child_pipes.send(self.pipe, sizes, text, lengths)

    def all_numbered(self) -> None:
        child_pipes.send(self.pipe, _KEYS_HEADER.pack(_KEYS_DONE, 0, 0))


def _send_segment(pipe: int, table: str, segment: Segment) -> None:  # pragma: no cover
    """The table's mark, then the segment pickled into the pipe as it is
    pickled: the serving process unpickles it meanwhile."""
    mark = table.encode()
    with io.BufferedWriter(child_pipes.PipeWriter(pipe), child_pipes.PIPE_BYTES) as stream:
        stream.write(_TABLE_HEADER.pack(len(mark)) + mark)
        pickled_to(stream, segment)

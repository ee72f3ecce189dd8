"""Build the whole index in a forked child process that keeps it in a snapshot file.

A build of a large table makes millions of short-lived objects (the records
read from the database, each form's keys, the runs its workers send back) and
leaves the heap of the process that made it scattered with what it freed: at
a million aliases a process that built its index holds about 200 MiB more
than one that read the same index back from a snapshot file. Built by a child
that writes the snapshot and exits, the build's memory leaves with the child;
the serving process reads the index back (``LiveIndex``), as a restart would.
"""

import contextlib
import gc
import logging
import os
import signal
import time
from pathlib import Path
from typing import NoReturn

from sqlalchemy import Engine
from sqlmodel import Session

from app import store
from app.matching.index import AliasIndex
from app.matching.snapshot import write_snapshot

log = logging.getLogger(__name__)

# A child that has not kept its index after this many seconds is stuck (a
# lock held by another thread of the process it was forked from, say) and is
# stopped: the caller builds the index itself. A million aliases take about
# half a minute on two cores.
TIME_LIMIT = 30 * 60.0
_POLL_INTERVAL = 0.05
# The longest reason for its failure a child reports.
_REASON_BYTES = 2000


class ChildBuildFailed(Exception):
    """The child could not be forked, failed, or ran past its time limit."""


def build_in_child(
    engine: Engine, path: Path, *, workers: int, time_limit: float = TIME_LIMIT
) -> None:
    """Build the index of the table in ``engine``'s database in a forked child
    process, its forms derived by ``workers`` processes, and keep it in ``path``
    (``write_snapshot``, under the table's ``store.revision_mark``).

    Returns once the child has kept it; raises ``ChildBuildFailed`` otherwise.
    """
    reading, writing = os.pipe()
    try:
        child = os.fork()
    except OSError as error:
        os.close(reading)
        os.close(writing)
        raise ChildBuildFailed(f"no child process: {error}") from error
    if child == 0:  # pragma: no cover (the child's coverage is not collected)
        os.close(reading)
        _run_child(engine, path, workers, writing)
    os.close(writing)
    with contextlib.suppress(OSError):  # as the child does itself: whichever runs first
        os.setpgid(child, child)
    with os.fdopen(reading, "rb") as reasons:
        # The child's own workers inherit the pipe and may outlive it: never wait on it.
        os.set_blocking(reading, False)
        status = _exit_status(child, time_limit)
        if status != 0:
            reason = (reasons.read(_REASON_BYTES) or b"").decode(errors="replace")
            raise ChildBuildFailed(reason or f"the child exited with code {status}")


def _exit_status(child: int, time_limit: float) -> int:
    """The child's exit code once it has ended; stopped with its workers past ``time_limit``."""
    deadline = time.monotonic() + time_limit
    ended = False
    try:
        while time.monotonic() < deadline:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                ended = True
                return os.waitstatus_to_exitcode(status)
            time.sleep(_POLL_INTERVAL)
        raise ChildBuildFailed(f"not done in {time_limit:g} s")
    except ChildProcessError as error:  # reaped by a supervisor that waits for any child
        ended = True
        raise ChildBuildFailed("its exit status was taken by another waiter") from error
    finally:
        if not ended:  # past the limit, or this process interrupted
            _stop_group(child)


def _stop_group(child: int) -> None:
    """Kill the child and the workers it forked (its process group), and reap it."""
    try:
        os.killpg(child, signal.SIGKILL)
    except ProcessLookupError:  # no group of its own: the child alone
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reaped by another waiter
        os.waitpid(child, 0)


def _run_child(
    engine: Engine, path: Path, workers: int, report: int
) -> NoReturn:  # pragma: no cover
    status = 1
    try:
        with contextlib.suppress(OSError):  # its workers in its group: stopped with it
            os.setpgid(0, 0)
        # The pool's connections belong to the parent: leave them to it.
        engine.dispose(close=False)
        # Everything the child makes lives until it exits: the cyclic collector's
        # rounds over the million records would find nothing to free.
        gc.disable()
        _build_and_keep(engine, path, workers)
        status = 0
    except BaseException as error:
        os.write(report, f"{type(error).__name__}: {error}".encode()[:_REASON_BYTES])
    finally:
        os._exit(status)


def _build_and_keep(engine: Engine, path: Path, workers: int) -> None:
    started = time.perf_counter()
    with Session(engine) as session:
        revision = store.current_revision(session=session)
        table = store.revision_mark(session=session, revision=revision)
        if table is None:
            raise ValueError("the table has no committed change to name its index by")
        records = store.load_records(session=session)
    read = time.perf_counter()
    segment = AliasIndex.build(records, workers=workers).base
    built = time.perf_counter()
    write_snapshot(path, segment, table)
    log.info(
        "index built by a child process: records read in %.1f s, built in %.1f s, kept in %.1f s",
        read - started,
        built - read,
        time.perf_counter() - built,
    )

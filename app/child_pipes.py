"""Pipes between a process and a child process it forked.

A child may not be the only process that holds its end of a pipe: anything
forked meanwhile (its own workers, another child of the same process) holds
it too, so an end of file may never come while they live. The reading end
here therefore stops when the child itself has ended.
"""

import contextlib
import fcntl
import io
import os
import select
import signal
import threading
import time
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

# The pipe's buffer: the most a process may ask for without privileges.
PIPE_BYTES = 1 << 20
POLL_INTERVAL = 0.05
# The longest reason for its failure a child reports.
REASON_BYTES = 2000


class PipeReader(io.RawIOBase):
    """The child's end of a pipe, read until the child ends or ``deadline``
    (``time.monotonic()``, which may be moved) passes: then ``TimeoutError``."""

    def __init__(self, pipe: int, child: int, deadline: float) -> None:
        self._pipe, self._child, self.deadline = pipe, child, deadline
        with contextlib.suppress(OSError, AttributeError):  # Linux alone sets a pipe's size
            fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        while (left := self.deadline - time.monotonic()) > 0:
            if select.select([self._pipe], [], [], min(left, POLL_INTERVAL))[0]:
                return os.readv(self._pipe, [buffer])
            if has_ended(self._child):  # and nothing more in the pipe
                return 0
        raise TimeoutError("the child sent nothing more in time")


class PipeWriter(io.RawIOBase):  # pragma: no cover (used by children)
    """Writes to the pipe by ``send``; leaves it open when closed."""

    def __init__(self, pipe: int) -> None:
        self._pipe = pipe

    def writable(self) -> bool:
        return True

    def write(self, data: "ReadableBuffer", /) -> int:
        send(self._pipe, data)
        return memoryview(data).nbytes


def send(pipe: int, *parts: "ReadableBuffer") -> None:  # pragma: no cover
    """Write ``parts`` whole to the pipe; nothing once the reader has closed
    it (it stopped reading): the child goes on with the rest of its work."""
    with contextlib.suppress(BrokenPipeError):
        for part in parts:
            view = memoryview(part).cast("B")  # in bytes, whatever its items (an array's)
            while view:
                view = view[os.write(pipe, view) :]


def report_failure(pipe: int, error: BaseException) -> None:  # pragma: no cover
    """Tell the parent, through ``pipe``, why this child failed (``read_reason``)."""
    with contextlib.suppress(OSError):
        os.write(pipe, f"{type(error).__name__}: {error}".encode()[:REASON_BYTES])


def read_reason(pipe: IO[bytes]) -> str:
    """What a child that ended wrote with ``report_failure``; "" if nothing."""
    return (pipe.read(REASON_BYTES) or b"").decode(errors="replace")


def has_ended(child: int) -> bool:
    """Whether the child has ended, leaving its exit status to be taken."""
    try:
        return os.waitid(os.P_PID, child, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # reaped by another waiter
        return True


def stop_group(child: int) -> None:
    """Kill the child and the processes it forked (its process group), and reap it."""
    try:
        os.killpg(child, signal.SIGKILL)
    except ProcessLookupError:  # no group of its own: the child alone
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reaped by another waiter
        os.waitpid(child, 0)


# How often a child looks whether the process that forked it still lives.
ORPHAN_CHECK_INTERVAL = 0.5


def stop_when_orphaned(
    parent: int, interval: float = ORPHAN_CHECK_INTERVAL, *, grace: float | None = None
) -> None:
    """In a child forked by ``parent``: stop it, with the processes it forked,
    once ``parent`` has died (killed, say), rather than let it work on for
    nobody beside the process that replaces ``parent``. With a ``grace``, it
    is asked first (SIGTERM), as its parent would have, and killed only if it
    still runs that many seconds later.

    Not the system's parent-death signal: that comes when the *thread* that
    forked the child ends, and a child is forked by a thread of a request or
    of the index's watching, which may end before the child has kept its file.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        if grace is not None:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(grace)
        # Its own process group holds its workers too; else it stops alone.
        if os.getpgid(0) == os.getpid():
            os.killpg(0, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()

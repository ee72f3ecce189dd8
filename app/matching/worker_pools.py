"""Worker processes started and stopped whole, whatever signal comes meanwhile.

The command line makes SIGTERM an exception, as Python makes Ctrl-C one; the
exception is raised wherever the main thread stands. Raised inside
``ProcessPoolExecutor`` while it forks its workers, it leaves them forked but
not the thread that tells them to stop: the shutdown that follows raises
("cannot join thread before it is started"), and the process then waits at
its exit for workers that wait for work. Such a signal is held back here and
acted on as soon as the pool's start or stop is over.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_signals_held() -> Iterator[None]:
    """SIGTERM and SIGINT noted within the block and raised again as it ends
    (however it ends), to the handlers there were before, the earliest signal
    first. Elsewhere than in the main thread, where no handler can be set,
    nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        held.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in STOP_SIGNALS}
    try:
        yield
    finally:  # a stop asked for while the block failed is still a stop
        for stop, handler in previous.items():
            signal.signal(stop, handler)
        for signum in held:
            signal.raise_signal(signum)

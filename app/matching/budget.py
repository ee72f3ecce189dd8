"""When long work must stop: a deadline, or the caller giving up.

The engine's loops call ``check()`` between units of bounded work (a text's
runs, a batch's mentions), so that a request past its time budget or
abandoned by its client stops within one unit instead of running to the end.
The caller decides what a stop means; the engine never returns a result cut
short.
"""

import threading
import time


class WorkStopped(Exception):
    """The work was stopped before its end; nothing of it is returned."""


class OutOfTime(WorkStopped):
    """The work ran past its deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the work took longer than {seconds:g} s")
        self.seconds = seconds


class Abandoned(WorkStopped):
    """The caller gave up on the work."""


class Deadline:
    """A budget of seconds from now (None: no limit), which the caller may also abandon."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        self._ends = None if seconds is None else time.monotonic() + seconds
        self._abandoned = threading.Event()

    def abandon(self) -> None:
        """Make the next ``check()`` stop the work; safe from any thread."""
        self._abandoned.set()

    def check(self) -> None:
        """Raise ``Abandoned`` or ``OutOfTime`` if the work must stop."""
        if self._abandoned.is_set():
            raise Abandoned("the work was abandoned")
        if self._ends is not None and time.monotonic() > self._ends:
            assert self.seconds is not None
            raise OutOfTime(self.seconds)


NO_DEADLINE = Deadline()

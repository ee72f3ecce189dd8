"""Where an endpoint matches: on the event loop when the work is small, in the threadpool when not.

FastAPI runs a plain ``def`` endpoint in its threadpool, a hop that costs
about as much as resolving a mention (half a millisecond here). Matching is
Python that holds the GIL, so a worker thread buys no parallelism; it only
lets the event loop take its turn between slices of a long computation. Work
of a few milliseconds therefore runs in place, and longer work (a long text,
a large batch) goes to the threadpool.
"""

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

# Up to this many characters, annotating takes a few milliseconds.
INLINE_CHARACTERS = 20_000
# Up to this many mentions, so does resolving them.
INLINE_MENTIONS = 20


async def computed(work: Callable[[], T], *, small: bool) -> T:
    """``work()``: in place when ``small``, else in the threadpool."""
    return work() if small else await run_in_threadpool(work)

"""Where and how long an endpoint matches.

FastAPI runs a plain ``def`` endpoint in its threadpool, a hop that costs
about as much as resolving a mention (half a millisecond here). Matching is
Python that holds the GIL, so a worker thread buys no parallelism; it only
lets the event loop take its turn between slices of a long computation. Work
of a few milliseconds therefore runs in place, and longer work (a long text,
a large batch) goes to the threadpool.

Every computation gets a ``Deadline`` of ``REQUEST_TIME_BUDGET`` seconds,
which the engine checks between units of bounded work: past it the request
answers 503 naming the budget, never a result cut short. Work in the
threadpool is also abandoned as soon as its client disconnects, so a client
that gives up leaves no work behind.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive

from app.api.responses import documented
from app.errors import ClientGone, OverBudget
from app.matching.budget import Abandoned, Deadline, OutOfTime

log = logging.getLogger(__name__)

T = TypeVar("T")

# Up to this many characters, annotating takes a few milliseconds.
INLINE_CHARACTERS = 20_000
# Up to this many mentions, so does resolving them.
INLINE_MENTIONS = 20

OVER_BUDGET = documented(
    503, s503="The work took longer than the time budget (`REQUEST_TIME_BUDGET`)."
)


async def within_budget(request: Request, work: Callable[[Deadline], T], *, in_place: bool) -> T:
    """``work(deadline)``, run on the event loop when ``in_place`` (small work),
    else in the threadpool until the client disconnects. ``OverBudget`` when it
    runs past the time budget."""
    budget: float = request.app.state.settings.request_time_budget
    deadline = Deadline(budget)
    try:
        if in_place:
            return work(deadline)
        return await _unless_abandoned(work, deadline, request.receive)
    except OutOfTime:
        raise OverBudget(
            f"the request needed more than the time budget of {budget:g} s of matching "
            "(REQUEST_TIME_BUDGET); send fewer or shorter texts or mentions"
        ) from None
    except Abandoned:
        log.info(
            "%s %s: the client disconnected; its work was stopped", request.method, request.url.path
        )
        raise ClientGone("the client disconnected before the answer was ready") from None


async def _unless_abandoned(
    work: Callable[[Deadline], T], deadline: Deadline, receive: Receive
) -> T:
    """``work(deadline)`` in the threadpool, abandoned when the client disconnects."""

    async def abandon_on_disconnect() -> None:
        # The body has been read: what comes next is the disconnect, if anything.
        while (await receive())["type"] != "http.disconnect":
            pass
        deadline.abandon()

    outcome: list[T] = []
    failed: list[Exception] = []
    async with anyio.create_task_group() as watching:
        watching.start_soon(abandon_on_disconnect)
        try:
            outcome.append(await run_in_threadpool(work, deadline))
        except Exception as error:  # stopped, or refused (a 413): raised as it is, not
            failed.append(error)  # wrapped in the task group's ExceptionGroup (a 500)
        finally:
            watching.cancel_scope.cancel()
    if failed:
        raise failed[0]
    return outcome[0]

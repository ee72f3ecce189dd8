"""Domain errors. Raised anywhere, turned into HTTP answers in one place (app.main).

An error names the input it refuses without echoing all of it (``clipped``,
``validation_details``): an answer never grows with the request refused.
"""

from collections.abc import Sequence
from typing import Any

# Characters of a refused input that a 422 shows, at most: enough to recognise
# it, never the megabyte mention or the key of a thousand characters sent.
MAX_ECHOED_CHARACTERS = 40
# A validator's message names the problem; one that quotes a long input is cut.
MAX_MESSAGE_CHARACTERS = 300
# Errors a 422 lists, at most: a batch of a thousand bad mentions has a thousand.
MAX_ERRORS_LISTED = 20


class DomainError(Exception):
    """An error the client can act on; ``status_code`` is its HTTP status."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    """Input that is well-formed but cannot be used as it is."""

    status_code = 422


class PreconditionFailed(DomainError):
    """An edit sent with an If-Match that the entity no longer matches; it answers
    the entity's current ETag."""

    status_code = 412

    def __init__(self, detail: str, *, etag: str) -> None:
        super().__init__(detail)
        self.headers = {"ETag": etag}


class InvalidAliasFile(DomainError):
    """An alias file that does not parse or validate; nothing of it was loaded."""

    status_code = 422


class PayloadTooLarge(DomainError):
    status_code = 413


class DatabaseUnusable(DomainError):
    """The database cannot be used at all (or did not answer in time); nothing to retry."""

    status_code = 503


class OverBudget(DomainError):
    """A request's work ran past its time budget; nothing of it is answered."""

    status_code = 503


class ClientGone(DomainError):
    """The client closed the connection before its answer was ready (nginx's 499)."""

    status_code = 499


class UnknownType(DomainError):
    """A type the table does not declare (in a filter: neither declares nor uses)."""

    status_code = 422


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """A 422's ``detail``: each error's ``loc``, ``msg`` and ``type`` as FastAPI
    gives them, with at most a short clip of the refused value as ``input``.

    Pydantic's errors carry the whole input (for a missing field, the whole
    object around it) and their context: echoed, an answer grows with the
    request that was refused. Past ``MAX_ERRORS_LISTED`` errors, one more
    entry says how many were left out.
    """
    listed = [_concise(error) for error in errors[:MAX_ERRORS_LISTED]]
    left_out = len(errors) - len(listed)
    if left_out:
        listed.append({"loc": [], "msg": f"and {left_out:,} more errors", "type": "more_errors"})
    return listed


def _concise(error: dict[str, Any]) -> dict[str, Any]:
    detail = {
        "loc": [clipped(part) for part in error["loc"]],
        "msg": clipped(str(error["msg"]), MAX_MESSAGE_CHARACTERS),
        "type": error["type"],
    }
    refused = error.get("input")
    if isinstance(refused, str | int | float | bool):
        detail["input"] = clipped(refused)
    return detail


def clipped(value: Any, limit: int = MAX_ECHOED_CHARACTERS) -> Any:
    """A text (or a number's) cut to ``limit`` characters, marked by an ellipsis:
    how an answer names a refused input without echoing all of it."""
    if isinstance(value, bool):
        return value
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return value
    return f"{text[: limit - 1]}…"

"""The error answers the OpenAPI schema documents, described once.

Routers name the statuses their operations can answer (``documented(404,
409)``); the application adds those any request can meet (413, 500).
"""

from collections.abc import Sequence
from typing import Any

from app.models import ErrorDetail, ServerError

# Characters of a refused input that a 422 shows, at most: enough to recognise
# it, never the megabyte mention or the key of a thousand characters sent.
MAX_ECHOED_CHARACTERS = 40
# A validator's message names the problem; one that quotes a long input is cut.
MAX_MESSAGE_CHARACTERS = 300
# Errors a 422 lists, at most: a batch of a thousand bad mentions has a thousand.
MAX_ERRORS_LISTED = 20

_DESCRIPTIONS = {
    400: "The body could not be read (it is not UTF-8 text).",
    401: "No bearer token.",
    403: "Not the admin token.",
    404: "No entity (or alias) has this ID.",
    409: "The ID or the alias exists already.",
    412: "The entity changed since the `If-Match` ETag was read; `ETag` is its current one.",
    413: "The body (or a text in it) is larger than the limit it names.",
    422: "A parameter or the body is malformed; `detail` names the field.",
    500: "An unexpected error; the service logged it under `error_id`.",
    503: "The database is not reachable or not usable; `detail` says which.",
}

Responses = dict[int | str, dict[str, Any]]


def documented(*statuses: int, **descriptions: str) -> Responses:
    """The ``responses=`` of a route or router for these error statuses.

    A keyword ``s404="..."`` replaces the usual description of that status.
    """
    return {
        status: {
            "model": ServerError if status == 500 else ErrorDetail,
            "description": descriptions.get(f"s{status}", _DESCRIPTIONS[status]),
        }
        for status in statuses
    }


ETAG_HEADER = {
    "ETag": {
        "description": "The entity's version: send it as `If-Match` to edit only that version.",
        "schema": {"type": "string"},
    }
}


def with_etag(status: int) -> Responses:
    """The ``responses=`` entry of a success that carries the entity's ``ETag``."""
    return {status: {"headers": ETAG_HEADER}}


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

"""The error answers the OpenAPI schema documents, described once.

Routers name the statuses their operations can answer (``documented(404,
409)``); the application adds those any request can meet (413, 415, 500).
"""

from typing import Any

from app.models.api import EditReport, ErrorDetail, ServerError

_DESCRIPTIONS = {
    400: "The body could not be read (it is not UTF-8 text).",
    401: "No bearer token.",
    403: "Not the admin token.",
    404: "No entity (or alias) has this ID.",
    409: "The ID or the alias exists already.",
    412: "The entity changed since the `If-Match` ETag was read; `ETag` is its current one.",
    413: "The body (or a text in it) is larger than the limit it names.",
    415: "The body is in a content coding (`Content-Encoding`); send it unencoded.",
    422: "A parameter or the body is malformed; `detail` names the field.",
    500: "An unexpected error; the service logged it under `error_id`.",
    503: "The database is not reachable or not usable; `detail` says which.",
}

Responses = dict[int | str, dict[str, Any]]

# The answer of an edit run with ``dry_run=true``.
DRY_RUN_ANSWER: Responses = {
    200: {"model": EditReport, "description": "With `dry_run=true`: what the edit would change."}
}


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

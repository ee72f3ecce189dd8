"""Examples of the API's answers, shown beside their schemas in the OpenAPI
document (``/docs`` and generated clients' documentation).

They are answers the service gives on the shipped table, shortened; each is
checked against its schema by tests/api/test_openapi.py.
"""

from typing import Any

JsonObject = dict[str, Any]

TTP: JsonObject = {"id": "ttp", "name": "Tehreek-e-Taliban Pakistan", "type": "organization"}
ISLAMABAD: JsonObject = {"id": "islamabad", "name": "Islamabad", "type": "city"}

ALIAS: JsonObject = {
    "id": 2,
    "text": "Tehreek-i-Taliban Pakistan",
    "note": "Spelling used by Dawn.",
}
ENTITY: JsonObject = {
    **TTP,
    "description": "Pakistan-based militant alliance formed in 2007.",
    "prominence": None,
    "aliases": [
        {"id": 1, "text": "TTP", "note": None, "case_sensitive": None},
        {**ALIAS, "case_sensitive": None},
    ],
}

RESOLVED: JsonObject = {
    "query": "Tehrik-i-Taliban Pakistan",
    "status": "matched",
    "entity": TTP,
    "score": 1.0,
    "candidates": [
        {**TTP, "score": 1.0, "matched_alias": "Tehrik-i-Taliban Pakistan", "method": "exact"}
    ],
    "tie_break": None,
}
AMBIGUOUS: JsonObject = {
    "query": "Taliban",
    "status": "ambiguous",
    "entity": None,
    "score": 0.9,
    "candidates": [
        {
            "id": "afghan-taliban",
            "name": "Afghan Taliban",
            "type": "organization",
            "score": 0.9,
            "matched_alias": "Taliban",
            "method": "exact",
        },
        {**TTP, "score": 0.9, "matched_alias": "Taliban", "method": "exact"},
    ],
    "tie_break": None,
}

ANNOTATED: JsonObject = {
    "mentions": [
        {
            "start": 0,
            "end": 9,
            "text": "ISLAMABAD",
            "status": "matched",
            "entity": ISLAMABAD,
            "score": 1.0,
            "method": "exact",
            "candidates": [
                {**ISLAMABAD, "score": 1.0, "matched_alias": "Islamabad", "method": "exact"}
            ],
        }
    ]
}

DRY_RUN: JsonObject = {
    "dry_run": True,
    "revision": 2,
    "counts": {"created": 0, "updated": 1, "deleted": 0},
    "created": [],
    "updated": ["ttp"],
    "deleted": [],
    "changes": [
        {
            "entity_id": "ttp",
            "action": "update",
            "before": ENTITY,
            "after": {**ENTITY, "description": "Umbrella group of Pakistani militants."},
        }
    ],
    "table_changes": [],
    "shared_forms": [],
}

CHANGE: JsonObject = {
    "id": 48,
    "revision": 2,
    "at": "2026-12-05T21:22:47.099905Z",
    "editor": "alice",
    "action": "add_alias",
    "entity_id": "ttp",
    "before": {**ENTITY, "aliases": ENTITY["aliases"][:1]},
    "after": ENTITY,
    "reverts": None,
    "detail": None,
}

REVIEW_ITEM: JsonObject = {
    "id": 7,
    "form": "quetta shura",
    "example": "Quetta Shura",
    "count": 12,
    "status": "open",
    "first_seen": "2026-12-01T08:00:00Z",
    "last_seen": "2026-12-05T21:00:00Z",
    "candidates": [{"id": "afghan-taliban", "score": 0.62}],
    "entity_id": None,
    "decided_by": None,
    "decided_at": None,
}

TYPES: JsonObject = {
    "items": [
        {"id": "city", "description": "A city or town.", "entities": 4},
        {
            "id": "organization",
            "description": "An armed group, party or firm.",
            "entities": 19,
        },
    ]
}

IMPORT_REPORT: JsonObject = {
    "mode": "merge",
    "entities": 46,
    "created": 1,
    "updated": 2,
    "deleted": 0,
    "aliases_added": 5,
    "aliases_deleted": 0,
    "revision": 3,
}

REVERT_REPORT: JsonObject = {
    "revision": 4,
    "total": 1,
    "changes": [
        {
            **CHANGE,
            "id": 49,
            "revision": 4,
            "action": "revert",
            "before": CHANGE["after"],
            "after": CHANGE["before"],
            "reverts": 48,
        }
    ],
}

READY: JsonObject = {
    "status": "ready",
    "database": True,
    "writable": True,
    "index_loaded": True,
    "revision": 2,
    "database_revision": 2,
    "lagging": False,
    "index_lag_seconds": 0.0,
    "lag_reason": None,
    "entities": 46,
    "aliases": 180,
}

ALIAS_FILE = """\
types:
- id: organization
  description: An armed group, party, company or other organisation.
entities:
- id: ttp
  name: Tehreek-e-Taliban Pakistan
  type: organization
  aliases:
  - TTP
  - text: Tehreek-i-Taliban Pakistan
    note: Spelling used by Dawn.
"""

METRICS = """\
# HELP alias_http_requests_total HTTP requests answered, by route and status.
# TYPE alias_http_requests_total counter
alias_http_requests_total{method="GET",route="/resolve",status="200"} 1024.0
# HELP alias_index_aliases Aliases in the index.
# TYPE alias_index_aliases gauge
alias_index_aliases 180.0
"""


def examples(*answers: Any) -> JsonObject:
    """A model's ``json_schema_extra``: these examples of it."""
    return {"examples": list(answers)}


def answered(status: int, answer: Any) -> dict[int | str, JsonObject]:
    """A route's ``responses=`` entry that shows this example of its answer."""
    return {status: {"content": {"application/json": {"example": answer}}}}

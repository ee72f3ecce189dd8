"""The W3C Reconciliation Service API 0.2 over the resolver, for OpenRefine.

A query batch is a JSON object of named queries, ``{"q0": {"query": "TTP",
"type": "organization", "limit": 3}}``; the answer names the same keys, each
with its candidates: ``{"q0": {"result": [{"id", "name", "score", "match",
"type"}]}}``. ``match`` is true only for the entity the resolver matched, so
OpenRefine's automatic matching never takes a guess. Scores are the
resolver's, on OpenRefine's usual scale of 0 to 100.
"""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from app.errors import DomainError
from app.matching.budget import NO_DEADLINE, Deadline
from app.matching.index import AliasIndex
from app.matching.resolve import Resolution, Status, Thresholds, resolve
from app.models import MAX_BATCH_SIZE, MAX_CANDIDATES, MAX_MENTION_LENGTH


class InvalidQueries(DomainError):
    status_code = 422


class ReconciliationQuery(BaseModel):
    # Properties and type_strict are accepted and not used: the table has no
    # properties, and every type given is accepted.
    model_config = ConfigDict(extra="ignore")

    query: str = Field(max_length=MAX_MENTION_LENGTH)
    type: str | list[str] | None = None
    limit: int = Field(default=5, ge=1, le=MAX_CANDIDATES)


_QUERY_BATCH = TypeAdapter(dict[str, ReconciliationQuery])


def manifest(*, base_url: str, types: list[str]) -> dict[str, Any]:
    """The service manifest that OpenRefine reads when the service is added."""
    return {
        "versions": ["0.2"],
        "name": "alias-service",
        "identifierSpace": f"{base_url}entities/",
        "schemaSpace": f"{base_url}types/",
        "documentation": f"{base_url}docs",
        "view": {"url": f"{base_url}entities/{{{{id}}}}"},
        "defaultTypes": [{"id": t, "name": t} for t in types],
    }


def parse_queries(raw: str) -> dict[str, ReconciliationQuery]:
    """A query batch from its JSON text; InvalidQueries names what is wrong."""
    try:
        batch = _QUERY_BATCH.validate_json(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'queries'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise InvalidQueries(f"invalid reconciliation queries: {problems}") from None
    if len(batch) > MAX_BATCH_SIZE:
        raise InvalidQueries(f"at most {MAX_BATCH_SIZE} queries in one batch")
    return batch


def reconcile(
    index: AliasIndex,
    queries: dict[str, ReconciliationQuery],
    thresholds: Thresholds,
    deadline: Deadline = NO_DEADLINE,
    resolved: Callable[[Resolution], None] | None = None,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each query's candidates; ``budget.WorkStopped`` when ``deadline`` says to stop.
    ``resolved`` is told of each query's resolution (to count the unresolved)."""
    results = {}
    for key, query in queries.items():
        deadline.check()
        resolution = _resolution(index, query, thresholds)
        if resolved is not None:
            resolved(resolution)
        results[key] = {"result": _candidates(resolution)}
    return results


def _resolution(
    index: AliasIndex, query: ReconciliationQuery, thresholds: Thresholds
) -> Resolution:
    types = [query.type] if isinstance(query.type, str) else query.type
    return resolve(index, query.query, types=types, limit=query.limit, thresholds=thresholds)


def _candidates(resolution: Resolution) -> list[dict[str, Any]]:
    return [
        {
            "id": c.entity.id,
            "name": c.entity.name,
            "score": round(c.score * 100, 2),
            "match": rank == 0 and resolution.status is Status.MATCHED,
            "type": [{"id": c.entity.type, "name": c.entity.type}],
        }
        for rank, c in enumerate(resolution.candidates)
    ]

"""The W3C Reconciliation Service API 0.2, so that OpenRefine can use the service."""

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request

from app import reconciliation, store
from app.api.deps import SessionDep, SettingsDep, SnapshotDep
from app.api.resolve import thresholds
from app.api.responses import documented

router = APIRouter(prefix="/reconcile", tags=["reconcile"])

_QUERIES = Query(
    description='A query batch as JSON, e.g. {"q0": {"query": "TTP", "type": "organization"}}.',
)


@router.get(
    "",
    summary="Service manifest, or reconcile a query batch",
    responses=documented(422, 503, s422="The queries are malformed."),
)
def reconcile_get(
    request: Request,
    session: SessionDep,
    index: SnapshotDep,
    settings: SettingsDep,
    queries: Annotated[str | None, _QUERIES] = None,
) -> dict[str, Any]:
    """Without `queries`, the service manifest OpenRefine reads when the service
    is added; with them, their candidates (as `POST /reconcile`)."""
    if queries is None:
        types = store.entity_types(session=session)
        return reconciliation.manifest(base_url=str(request.base_url), types=types)
    parsed = reconciliation.parse_queries(queries)
    return reconciliation.reconcile(index, parsed, thresholds(settings, None))


async def _form_queries(request: Request) -> str:
    # OpenRefine posts application/x-www-form-urlencoded with a `queries` field;
    # a JSON body holding the batch itself is accepted too.
    body = (await request.body()).decode("utf-8", errors="replace")
    if "json" in request.headers.get("content-type", ""):
        return body
    return parse_qs(body).get("queries", ["{}"])[0]


@router.post(
    "",
    summary="Reconcile a query batch",
    responses=documented(422, s422="The queries are malformed."),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": {"queries": {"type": "string"}}}
                },
                "application/json": {"schema": {"type": "object"}},
            }
        }
    },
)
def reconcile_post(
    index: SnapshotDep,
    settings: SettingsDep,
    queries: Annotated[str, Depends(_form_queries)],
) -> dict[str, Any]:
    """Each named query's candidates, best first; `match` is true only for the
    entity the resolver matched (never for a guess between entities)."""
    parsed = reconciliation.parse_queries(queries)
    return reconciliation.reconcile(index, parsed, thresholds(settings, None))

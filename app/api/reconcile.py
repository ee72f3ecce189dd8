"""The W3C Reconciliation Service API 0.2, so that OpenRefine can use the service."""

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from app import reconciliation, store
from app.api.compute import INLINE_MENTIONS, computed
from app.api.deps import SessionDep, SettingsDep, SnapshotDep, outcomes
from app.api.resolve import thresholds
from app.api.responses import documented
from app.matching.budget import Deadline
from app.matching.index import AliasIndex
from app.settings import Settings

router = APIRouter(prefix="/reconcile", tags=["reconcile"])

_QUERIES = Query(
    description='A query batch as JSON, e.g. {"q0": {"query": "TTP", "type": "organization"}}.',
)


_ERRORS = documented(
    422,
    503,
    s422="The queries are malformed.",
    s503="The database is not reachable, or the work took longer than the time budget "
    "(`REQUEST_TIME_BUDGET`).",
)


@router.get("", summary="Service manifest, or reconcile a query batch", responses=_ERRORS)
async def reconcile_get(
    request: Request,
    session: SessionDep,
    index: SnapshotDep,
    settings: SettingsDep,
    queries: Annotated[str | None, _QUERIES] = None,
) -> dict[str, Any]:
    """Without `queries`, the service manifest OpenRefine reads when the service
    is added; with them, their candidates (as `POST /reconcile`)."""
    if queries is None:
        types = await run_in_threadpool(lambda: store.entity_types(session=session))
        return reconciliation.manifest(base_url=str(request.base_url), types=types)
    return await _reconciled(request, index, settings, queries)


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
    responses=_ERRORS,
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
async def reconcile_post(
    request: Request,
    index: SnapshotDep,
    settings: SettingsDep,
    queries: Annotated[str, Depends(_form_queries)],
) -> dict[str, Any]:
    """Each named query's candidates, best first; `match` is true only for the
    entity the resolver matched (never for a guess between entities)."""
    return await _reconciled(request, index, settings, queries)


async def _reconciled(
    request: Request, index: AliasIndex, settings: Settings, queries: str
) -> dict[str, Any]:
    parsed = reconciliation.parse_queries(queries)
    rule = thresholds(settings, None)

    told = outcomes(request)

    def results(deadline: Deadline) -> dict[str, Any]:
        return reconciliation.reconcile(
            index, parsed, rule, deadline, lambda resolution: told.resolved(resolution, "reconcile")
        )

    return await computed(request, results, small=len(parsed) <= INLINE_MENTIONS)

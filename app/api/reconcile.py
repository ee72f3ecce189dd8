"""The W3C Reconciliation Service API 0.2, so that OpenRefine can use the service.

``/reconcile`` answers the manifest, query batches and data extension; the
services the manifest names (suggest, preview, view, extend) live under it.
"""

import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import reconciliation, redirects, store
from app.api.answers import json_response
from app.api.compute import INLINE_MENTIONS, within_budget
from app.api.deps import (
    EntityIdPath,
    SessionDep,
    SettingsDep,
    SnapshotDep,
    ThresholdsDep,
    TypeQuery,
    TypesQuery,
    outcomes,
)
from app.api.reconcile_models import (
    ExtensionResponse,
    Manifest,
    PropertyProposal,
    ResultBatch,
    SuggestedEntities,
    SuggestedProperties,
    SuggestedTypes,
)
from app.api.responses import Responses, documented
from app.errors import NotFound
from app.matching import completion
from app.matching.budget import Deadline
from app.matching.index import AliasIndex, EntityRecord
from app.matching.resolve import Thresholds
from app.matching.type_names import requested_types
from app.models.api import MAX_CANDIDATES, MAX_MENTION_LENGTH
from app.models.fields import ENTITY_ID_PATTERN, PRINTABLE_PATTERN
from app.reconciliation import ExtensionQuery, InvalidQueries

router = APIRouter(prefix="/reconcile", tags=["reconcile"])
_ENTITY_ID = re.compile(ENTITY_ID_PATTERN)

_QUERIES = Query(
    description='A query batch as JSON, e.g. {"q0": {"query": "TTP", "type": "organization"}}.',
)
_EXTEND = Query(
    description='A data extension request as JSON, e.g. {"ids": ["ttp"], "properties": '
    '[{"id": "aliases"}]}.',
)
_ERRORS = documented(
    422,
    503,
    s422="The queries or the extension request are malformed, name a type the table "
    "does not have, or a property the service does not offer.",
    s503="The database is not reachable, or the work took longer than the time budget "
    "(`REQUEST_TIME_BUDGET`).",
)
_FORM_BODY = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"queries": {"type": "string"}, "extend": {"type": "string"}},
                }
            },
            "application/json": {"schema": {"type": "object"}},
        }
    }
}
_EXAMPLE_ENTITY = EntityRecord(
    id="ttp",
    name="Tehreek-e-Taliban Pakistan",
    type="organization",
    aliases=("TTP", "Pakistani Taliban"),
    description="Umbrella group of Pakistani militants.",
)
# The answer is HTML; its errors are JSON, as everywhere (``response_class=Response``
# keeps FastAPI from documenting them as HTML).
_HTML: Responses = {
    200: {
        "content": {
            "text/html": {
                "schema": {"type": "string"},
                "example": reconciliation.preview_html(_EXAMPLE_ENTITY),
            }
        }
    }
}
_MERGED: Responses = {
    308: {
        "description": "The entity was merged into another: `Location` is that entity's page.",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
}
_UNKNOWN = documented(404, 422, 503, s404="No entity has this ID, nor had it before a merge.")

EntityIdQuery = Annotated[str, Query(pattern=ENTITY_ID_PATTERN, description="The entity's ID.")]
PrefixQuery = Annotated[
    str,
    Query(max_length=MAX_MENTION_LENGTH, pattern=PRINTABLE_PATTERN, description="What was typed."),
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_CANDIDATES, description="At most this many.")]


@router.get(
    "",
    summary="Service manifest, or reconcile a query batch",
    operation_id="reconcileGet",
    response_model=Manifest | ResultBatch | ExtensionResponse,
    responses=_ERRORS,
)
async def reconcile_get(
    request: Request,
    session: SessionDep,
    index: SnapshotDep,
    settings: SettingsDep,
    rule: ThresholdsDep,
    queries: Annotated[str | None, _QUERIES] = None,
    extend: Annotated[str | None, _EXTEND] = None,
) -> Response:
    """Without parameters, the service manifest OpenRefine reads when the
    service is added; with `queries`, their candidates (as `POST /reconcile`);
    with `extend`, the properties asked for (as `POST /reconcile/extend`)."""
    if queries is not None:
        return await _reconciled(request, index, rule, queries)
    if extend is not None:
        return await _extended(session, index, reconciliation.parse_extension(extend))
    types = await run_in_threadpool(lambda: store.entity_types(session=session))
    return json_response(reconciliation.manifest(public_url=settings.public_url, types=types))


async def _form_field(request: Request) -> tuple[str, str]:
    """Which of ``queries`` and ``extend`` a POST carries, and its JSON text.

    OpenRefine posts application/x-www-form-urlencoded; a JSON body holding
    the query batch itself is accepted too."""
    body = (await request.body()).decode("utf-8", errors="replace")
    if "json" in request.headers.get("content-type", "").lower():
        return "queries", body
    form = parse_qs(body)
    for field in ("queries", "extend"):
        if field in form:
            return field, form[field][0]
    raise InvalidQueries("the body has neither 'queries' nor 'extend'")


@router.post(
    "",
    summary="Reconcile a query batch",
    operation_id="reconcile",
    response_model=ResultBatch | ExtensionResponse,
    responses=_ERRORS,
    openapi_extra=_FORM_BODY,
)
async def reconcile_post(
    request: Request,
    session: SessionDep,
    index: SnapshotDep,
    rule: ThresholdsDep,
    sent: Annotated[tuple[str, str], Depends(_form_field)],
) -> Response:
    """Each named query's candidates, best first; `match` is true only for the
    entity the resolver matched (never for a guess between entities). A form
    with `extend` instead of `queries` answers the properties asked for."""
    field, text = sent
    if field == "extend":
        return await _extended(session, index, reconciliation.parse_extension(text))
    return await _reconciled(request, index, rule, text)


async def _reconciled(
    request: Request, index: AliasIndex, rule: Thresholds, queries: str
) -> Response:
    parsed = reconciliation.parse_queries(queries, index.known_types())
    told = outcomes(request)

    def results(deadline: Deadline) -> dict[str, Any]:
        return reconciliation.reconcile(
            index, parsed, rule, deadline, lambda resolution: told.resolved(resolution, "reconcile")
        )

    return json_response(
        await within_budget(request, results, in_place=len(parsed) <= INLINE_MENTIONS)
    )


async def _extended(session: Session, index: AliasIndex, query: ExtensionQuery) -> Response:
    return json_response(await run_in_threadpool(_extension, session, index, query))


def _extension(session: Session, index: AliasIndex, query: ExtensionQuery) -> dict[str, Any]:
    # Only an ID that could be an entity's may have been merged: another (a NUL
    # in it, 200 characters) is unknown without asking the database.
    unknown = [i for i in query.ids if index.entity(i) is None and _ENTITY_ID.fullmatch(i)]
    merged = redirects.targets(session, unknown) if unknown else {}
    return reconciliation.extend(index, query, merged)


@router.post(
    "/extend",
    summary="Data extension: properties of entities",
    operation_id="extendData",
    response_model=ExtensionResponse,
    responses=_ERRORS | documented(400),
)
async def extend_data(session: SessionDep, index: SnapshotDep, body: ExtensionQuery) -> Response:
    """The values of the properties asked for (`type`, `description`,
    `aliases`) of each ID; an unknown ID's lists are empty, a merged entity's
    are those of the entity it was merged into. OpenRefine sends the same
    request as `extend=` to `/reconcile`."""
    return await _extended(session, index, reconciliation.check_extension(body))


@router.get(
    "/extend/propose",
    summary="Data extension: the properties offered",
    operation_id="proposeProperties",
    response_model=PropertyProposal,
    responses=documented(422),
)
async def propose_properties(
    index: SnapshotDep,
    type: TypeQuery = None,
    types: TypesQuery = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_CANDIDATES)] = None,
) -> Response:
    """The properties data extension offers for entities of `type` (or
    `types`): every entity has a `type`, a `description` and `aliases`."""
    wanted = requested_types(type, types)
    return json_response(reconciliation.propose_properties(index, entity_types=wanted, limit=limit))


@router.get(
    "/suggest/entity",
    summary="Suggest entities as a name is typed",
    operation_id="suggestEntities",
    response_model=SuggestedEntities,
    responses=documented(422),
)
async def suggest_entities(
    index: SnapshotDep,
    prefix: PrefixQuery,
    type: TypeQuery = None,
    types: TypesQuery = None,
    cursor: Annotated[int, Query(ge=0, le=1000, description="Skip this many.")] = 0,
    limit: LimitQuery = 10,
) -> Response:
    """Entities whose name or an alias starts with `prefix`, or has a word that
    does, best first: a whole name before a word of one, then the more
    prominent, then the shorter; case, accents and punctuation do not matter.
    One result per entity; of `type` (or `types`) only, when given."""
    wanted = requested_types(type, types)

    def found() -> dict[str, Any]:
        return reconciliation.suggest_entities(
            index, prefix, types=wanted, limit=limit, cursor=cursor
        )

    if completion.ready(index):
        return json_response(found())
    return json_response(await run_in_threadpool(found))  # the first use builds them


@router.get(
    "/suggest/type",
    summary="Suggest entity types",
    operation_id="suggestTypes",
    response_model=SuggestedTypes,
    responses=documented(422),
)
async def suggest_types(
    index: SnapshotDep, prefix: PrefixQuery, limit: LimitQuery = 10
) -> Response:
    """The table's types (declared or in use) starting with `prefix`, then those containing it."""
    return json_response(reconciliation.suggest_types(index, prefix, limit=limit))


@router.get(
    "/suggest/property",
    summary="Suggest properties",
    operation_id="suggestProperties",
    response_model=SuggestedProperties,
    responses=documented(422),
)
async def suggest_properties(prefix: PrefixQuery, limit: LimitQuery = 10) -> Response:
    """The data extension's properties whose ID or name contains `prefix`."""
    return json_response(reconciliation.suggest_properties(prefix, limit=limit))


@router.get(
    "/preview",
    summary="A small HTML card of an entity",
    operation_id="previewEntity",
    response_class=Response,
    responses={**_HTML, **_MERGED, **_UNKNOWN},
)
def preview_entity(
    request: Request, session: SessionDep, index: SnapshotDep, id: EntityIdQuery
) -> Response:
    """The entity's name, type, description and first aliases, for OpenRefine's
    preview frame (its size is in the manifest)."""
    entity = _entity_or_merged(session, index, id)
    if isinstance(entity, str):
        return RedirectResponse(f"{_base(request)}/preview?id={entity}", status_code=308)
    return HTMLResponse(reconciliation.preview_html(entity))


@router.get(
    "/view/{entity_id}",
    summary="An HTML page of an entity",
    operation_id="viewEntity",
    response_class=Response,
    responses={**_HTML, **_MERGED, **_UNKNOWN},
)
def view_entity(
    request: Request,
    session: SessionDep,
    index: SnapshotDep,
    settings: SettingsDep,
    entity_id: EntityIdPath,
) -> Response:
    """The entity's page: name, type, description, prominence and every alias."""
    entity = _entity_or_merged(session, index, entity_id)
    if isinstance(entity, str):
        return RedirectResponse(f"{_base(request)}/view/{entity}", status_code=308)
    return HTMLResponse(reconciliation.view_html(entity, public_url=settings.public_url))


def _entity_or_merged(session: Session, index: AliasIndex, entity_id: str) -> EntityRecord | str:
    """The entity; for the ID of one merged away, the ID of its survivor."""
    entity = index.entity(entity_id)
    if entity is not None:
        return entity
    into = redirects.target(session, entity_id)
    if into is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return into


def _base(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{router.prefix}"

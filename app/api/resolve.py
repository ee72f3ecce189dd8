"""Resolve mentions to canonical entity IDs."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.annotating import with_own_threshold
from app.api.answers import JsonObject, json_response, resolution_public
from app.api.compute import INLINE_MENTIONS, OVER_BUDGET, within_budget
from app.api.deps import (
    SnapshotDep,
    ThresholdsDep,
    TypesQuery,
    outcomes,
    service_thresholds,
    snapshot,
)
from app.api.query_route import QueryRoute
from app.api.responses import documented
from app.declared_types import check_filters
from app.matching.budget import Deadline
from app.matching.resolve import TieBreak, resolve
from app.matching.type_names import requested_types
from app.models.api import (
    MAX_CANDIDATES,
    MAX_MENTION_LENGTH,
    THRESHOLD_DESCRIPTION,
    TIE_BREAK_DESCRIPTION,
    TYPE_DESCRIPTION,
    ResolveRequest,
    ResolveResponse,
    ResolveResult,
)
from app.models.fields import MAX_TYPE_LENGTH

router = APIRouter(tags=["resolve"], responses=documented(422))


async def resolve_one(
    request: Request,
    q: Annotated[
        str,
        Query(
            max_length=MAX_MENTION_LENGTH,
            description="The mention as written.",
            examples=["Tehreek-i-Taliban Pakistan"],
        ),
    ],
    type: Annotated[
        str | None,
        Query(
            max_length=MAX_TYPE_LENGTH,
            description=f"{TYPE_DESCRIPTION} A type neither declared nor in use answers 422.",
        ),
    ] = None,
    types: TypesQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES, description="Candidates.")] = 5,
    threshold: Annotated[float | None, Query(ge=0, le=1, description=THRESHOLD_DESCRIPTION)] = None,
    tie_break: Annotated[TieBreak | None, Query(description=TIE_BREAK_DESCRIPTION)] = None,
) -> Response:
    """The entity a mention denotes: `matched` when one entity reaches the
    threshold and clearly beats the others, `ambiguous` with candidates when
    others come as close, `unmatched` otherwise. Each candidate says which
    alias matched and how (`exact`, `structural`, `transliteration`,
    `compositional`, `phonetic`, `fuzzy`); a `compositional` candidate says
    in `exchanged` which part of the mention it read as another name. With
    `tie_break=prominence` the most prominent of namesakes may be matched,
    and the result's `tie_break` says so."""
    # One mention is small work: resolved in place (see app.api.compute).
    index = snapshot(request)
    wanted = requested_types(type, types)
    if wanted:  # the most frequent request: no work for the filter it lacks
        check_filters(index.known_types(), wanted)
    rule = with_own_threshold(service_thresholds(request), threshold)
    resolution = resolve(index, q, types=wanted, limit=limit, thresholds=rule, tie_break=tie_break)
    outcomes(request).resolved(resolution, "resolve")
    return json_response(resolution_public(resolution))


# The service's most frequent request: its query checked at once (QueryRoute),
# the index and thresholds read from the app, not solved as dependencies.
router.add_api_route(
    "/resolve",
    resolve_one,
    methods=["GET"],
    operation_id="resolve",
    summary="Resolve one mention",
    response_model=ResolveResult,
    route_class_override=QueryRoute,
)


@router.post(
    "/resolve",
    operation_id="resolveBatch",
    summary="Resolve many mentions",
    response_model=ResolveResponse,
    responses=documented(400) | OVER_BUDGET,
)
async def resolve_many(
    request: Request, index: SnapshotDep, service_rule: ThresholdsDep, body: ResolveRequest
) -> Response:
    """Resolve a batch of mentions; the results come in the order of the mentions."""
    wanted = body.type_filter()
    check_filters(index.known_types(), wanted)
    rule = with_own_threshold(service_rule, body.threshold)
    told = outcomes(request)

    def results(deadline: Deadline) -> list[JsonObject]:
        resolved = []
        for mention in body.mentions:
            deadline.check()
            resolution = resolve(
                index,
                mention,
                types=wanted,
                limit=body.limit,
                thresholds=rule,
                tie_break=body.tie_break,
            )
            told.resolved(resolution, "resolve")
            resolved.append(resolution_public(resolution))
        return resolved

    in_place = len(body.mentions) <= INLINE_MENTIONS
    return json_response({"results": await within_budget(request, results, in_place=in_place)})

"""The engine's results in the shapes of the public API.

The engine's results are typed already, so the public models are built
without validating them again (``model_construct``), and routes that answer
many of them send the JSON at once (``json_response``) instead of letting the
framework validate the whole answer a second time.
"""

from fastapi import Response
from pydantic import BaseModel

from app.matching.annotate import Mention
from app.matching.index import EntityRecord
from app.matching.resolve import Candidate, Resolution, Status
from app.models import CandidatePublic, EntitySummary, MentionPublic, ResolveResult


def resolution_public(resolution: Resolution) -> ResolveResult:
    entity = resolution.entity
    return ResolveResult.model_construct(
        query=resolution.query,
        status=resolution.status.value,
        entity=entity_summary(entity) if entity else None,
        score=round(resolution.score, 4),
        candidates=[candidate_public(c) for c in resolution.candidates],
    )


def mention_public(mention: Mention, limit: int) -> MentionPublic:
    resolution = mention.resolution
    entity = resolution.entity
    return MentionPublic.model_construct(
        start=mention.span.start,
        end=mention.span.end,
        text=mention.text,
        status="matched" if resolution.status is Status.MATCHED else "ambiguous",
        entity=entity_summary(entity) if entity else None,
        score=round(resolution.score, 4),
        method=mention.method,
        candidates=[candidate_public(c) for c in resolution.candidates[:limit]],
    )


def entity_summary(entity: EntityRecord) -> EntitySummary:
    return EntitySummary.model_construct(id=entity.id, name=entity.name, type=entity.type)


def candidate_public(candidate: Candidate) -> CandidatePublic:
    entity = candidate.entity
    return CandidatePublic.model_construct(
        id=entity.id,
        name=entity.name,
        type=entity.type,
        score=round(candidate.score, 4),
        matched_alias=candidate.matched_alias,
        method=candidate.method.value,
    )


def json_response(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")

"""The engine's results in the shapes of the public API."""

from app.matching.annotate import Mention
from app.matching.index import EntityRecord
from app.matching.resolve import Candidate, Resolution, Status
from app.models import CandidatePublic, EntitySummary, MentionPublic, ResolveResult


def resolution_public(resolution: Resolution) -> ResolveResult:
    entity = resolution.entity
    return ResolveResult(
        query=resolution.query,
        status=resolution.status.value,
        entity=entity_summary(entity) if entity else None,
        score=round(resolution.score, 4),
        candidates=[candidate_public(c) for c in resolution.candidates],
    )


def mention_public(mention: Mention, limit: int) -> MentionPublic:
    resolution = mention.resolution
    entity = resolution.entity
    return MentionPublic(
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
    return EntitySummary(id=entity.id, name=entity.name, type=entity.type)


def candidate_public(candidate: Candidate) -> CandidatePublic:
    entity = candidate.entity
    return CandidatePublic(
        id=entity.id,
        name=entity.name,
        type=entity.type,
        score=round(candidate.score, 4),
        matched_alias=candidate.matched_alias,
        method=candidate.method.value,
    )

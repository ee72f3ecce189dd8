"""The engine's results as the public API's answers.

Resolving a batch or annotating an article answers hundreds of candidates;
building a model for each and validating them again costs as much as the
matching. So results become plain JSON-ready dicts, in the shapes that
``app.models.api`` declares (``ResolveResult``, ``MentionPublic``, which the
routes name as their response models for the OpenAPI schema), and are sent
at once by ``json_response``. Nothing validates them on the way out:
tests/api/test_answers.py holds real answers to those declarations.
"""

import json
from typing import Any

import orjson
from fastapi import Response
from fastapi.responses import JSONResponse

from app.matching.annotate import Annotation, Mention
from app.matching.caches import SnapshotCaches
from app.matching.index import EntityRecord
from app.matching.resolve import Candidate, Resolution, Status

JsonObject = dict[str, Any]


def resolution_public(resolution: Resolution) -> JsonObject:
    """A ``ResolveResult``."""
    entity = resolution.entity
    return {
        "query": resolution.query,
        "status": resolution.status.value,
        "entity": entity_summary(entity) if entity else None,
        "score": round(resolution.score, 4),
        "candidates": [candidate_public(c) for c in resolution.candidates],
        "tie_break": resolution.tie_break.value if resolution.tie_break else None,
    }


def mention_public(mention: Mention, limit: int, caches: SnapshotCaches) -> JsonObject:
    """A ``MentionPublic``.

    An article names the same entities again and again, and the engine keeps
    one resolution per name and snapshot: the fields a mention's answer takes
    from its resolution are kept with the snapshot too (``caches.answers``).
    Answers are rendered at once and never changed, so they may share them.
    They are kept by the resolution's identity, which its entry holds (so no
    other object can take it meanwhile): hashing a resolution would hash every
    candidate's record.
    """
    resolution = mention.resolution
    key = (id(resolution), mention.method, limit)
    _, fields = caches.answers.remembered(
        key, lambda _: (resolution, _resolution_fields(mention, limit))
    )
    return {"start": mention.span.start, "end": mention.span.end, "text": mention.text, **fields}


def _resolution_fields(mention: Mention, limit: int) -> JsonObject:
    """The fields of a ``MentionPublic`` that its resolution, method and limit decide."""
    resolution, method = mention.resolution, mention.method
    entity = resolution.entity
    return {
        "status": "matched" if resolution.status is Status.MATCHED else "ambiguous",
        "entity": entity_summary(entity) if entity else None,
        "score": round(resolution.score, 4),
        "method": method,
        "candidates": [candidate_public(c) for c in resolution.candidates[:limit]],
    }


def annotation_public(found: Annotation, limit: int, caches: SnapshotCaches) -> JsonObject:
    """An ``AnnotateResponse``: what ``POST /annotate`` answers, and what the
    archive command adds to each record; ``caches`` are those of the snapshot
    that annotated."""
    return {"mentions": [mention_public(m, limit, caches) for m in found.mentions]}


def entity_summary(entity: EntityRecord) -> JsonObject:
    return {"id": entity.id, "name": entity.name, "type": entity.type}


def candidate_public(candidate: Candidate) -> JsonObject:
    entity = candidate.entity
    fields = {
        "id": entity.id,
        "name": entity.name,
        "type": entity.type,
        "score": round(candidate.score, 4),
        "matched_alias": candidate.matched_alias,
        "method": candidate.method.value,
    }
    if entity.prominence is not None:
        fields["prominence"] = entity.prominence
    if candidate.exchanged:  # a ``CandidatePublic``'s "exchanged", only when compositional
        fields["exchanged"] = [
            {"part": e.part, "for": e.stood_for, "entity": e.entity_id} for e in candidate.exchanged
        ]
    return fields


class SafeJSONResponse(JSONResponse):
    """Compact UTF-8 JSON, rendered by orjson (an annotated article's answer in a
    tenth of the time), that survives lone surrogates in echoed input: escaped,
    not a 500."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def json_bytes(content: Any) -> bytes:
    """Compact UTF-8 JSON by orjson; by the standard library, escaped, for what
    orjson refuses (lone surrogates, integers past 64 bits)."""
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def json_response(content: JsonObject) -> Response:
    return SafeJSONResponse(content)

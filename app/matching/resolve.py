"""Resolve one mention against an index snapshot.

The decision rule is the product's promise: ``matched`` only when the
evidence points at exactly one entity, ``ambiguous`` (with candidates) when
several entities are equally plausible, ``unmatched`` otherwise. It never
guesses between entities.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.matching.index import AliasIndex, EntityRecord, Posting
from app.matching.normalize import normalize


class Status(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


class Method(StrEnum):
    EXACT = "exact"


@dataclass(frozen=True, slots=True)
class Candidate:
    entity: EntityRecord
    score: float
    matched_alias: str
    method: Method


@dataclass(frozen=True, slots=True)
class Resolution:
    query: str
    status: Status
    candidates: tuple[Candidate, ...]

    @property
    def entity(self) -> EntityRecord | None:
        return self.candidates[0].entity if self.status is Status.MATCHED else None

    @property
    def score(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0


def resolve(
    index: AliasIndex, query: str, *, entity_type: str | None = None, limit: int = 5
) -> Resolution:
    """Resolve ``query`` to at most ``limit`` candidates, best first, one per entity."""
    candidates = _exact_candidates(index, normalize(query), entity_type)
    return Resolution(query=query, status=_decide(candidates), candidates=tuple(candidates[:limit]))


def _exact_candidates(index: AliasIndex, key: str, entity_type: str | None) -> list[Candidate]:
    best: dict[str, Candidate] = {}
    for posting in index.exact(key) if key else ():
        entity = index.entity(posting.entity_id)
        if entity is None or not _type_fits(entity, entity_type):
            continue
        if posting.entity_id not in best or _is_name(posting, entity):
            best[posting.entity_id] = Candidate(entity, 1.0, posting.text, Method.EXACT)
    return sorted(best.values(), key=lambda c: (-c.score, c.entity.id))


def _is_name(posting: Posting, entity: EntityRecord) -> bool:
    return posting.text == entity.name


def _type_fits(entity: EntityRecord, entity_type: str | None) -> bool:
    return entity_type is None or entity.type.casefold() == entity_type.casefold()


def _decide(candidates: list[Candidate]) -> Status:
    if not candidates:
        return Status.UNMATCHED
    if len(candidates) == 1:
        return Status.MATCHED
    return Status.AMBIGUOUS

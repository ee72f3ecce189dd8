"""Resolve one mention against an index snapshot, layer by layer.

The layers go from the strictest to the loosest; the first that finds a
surface form of an entity of the wanted type decides, and each candidate
names it as its ``method``:

``exact``           the normal form is a curated name or alias;
``structural``      so is a part of it: a parenthesised acronym, the name
                    without titles, or the words run together (I.S.K.P.);
``transliteration`` the same words once romanisation variants are folded;
``compositional``   a curated form with one part written as another name of
                    what that part names (``app.matching.composition``);
``phonetic``        the same words by sound (metaphone);
``fuzzy``           most of the weighted words alike (``app.matching.scoring``).

The decision is the product's promise: ``matched`` only when the best entity
reaches the threshold and beats every other entity by the margin;
``ambiguous`` when others come as close; ``unmatched`` otherwise. It never
guesses between entities.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import jellyfish

from app.matching.composition import COMPOSITIONAL_SCORE, Exchange, composed, with_exchanges
from app.matching.index import AliasIndex, EntityRecord, FormRef, Posting
from app.matching.keys import FormKeys, form_keys
from app.matching.normalize import normalize
from app.matching.scoring import MIN_SPELLING_SIMILARITY, weighted_dice
from app.matching.structure import joined_parts, parenthesised_parts, without_titles


class Status(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


class Method(StrEnum):
    EXACT = "exact"
    STRUCTURAL = "structural"
    TRANSLITERATION = "transliteration"
    COMPOSITIONAL = "compositional"
    PHONETIC = "phonetic"
    FUZZY = "fuzzy"


# What a match at each whole-form layer is worth: less as more is forgotten.
LAYER_SCORES = {
    Method.EXACT: 1.0,
    Method.STRUCTURAL: 0.98,
    Method.TRANSLITERATION: 0.95,
    Method.COMPOSITIONAL: COMPOSITIONAL_SCORE,
    Method.PHONETIC: 0.9,
}
# Layers whose key forgets spelling: among their finds the closest spelling
# wins, the others losing SPELLING_WEIGHT x their extra Jaro-Winkler distance.
SPELLING_BLIND = frozenset({Method.TRANSLITERATION, Method.PHONETIC})
SPELLING_WEIGHT = 0.5
# A phonetic key this short (e.g. "TX" for Daesh) is too common to trust alone;
# so is a folded key this short (TSY and TSE, Tub and TOB fold together).
MIN_PHONETIC_KEY = 4
MIN_FOLDED_KEY = 5
FUZZY_CANDIDATES = 40
# Longer mentions are sentences, not names: no fuzzy scoring (a bounded cost).
MAX_FUZZY_WORDS = 12


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision rule's numbers (see README: Matching)."""

    match: float = 0.85  # the best entity's score needed for "matched"
    margin: float = 0.05  # by how much it must beat the runner-up
    floor: float = 0.6  # weaker candidates are not worth showing


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Candidate:
    entity: EntityRecord
    score: float
    matched_alias: str
    method: Method
    # What the compositional layer read as another name of the same entity.
    exchanged: tuple[Exchange, ...] = ()


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
    index: AliasIndex,
    query: str,
    *,
    types: Iterable[str] | None = None,
    limit: int = 5,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Resolution:
    """Resolve ``query`` to at most ``limit`` candidates, best first, one per entity,
    among the entities of ``types`` (of any type when None)."""
    candidates = layered_candidates(index, query, TypeFilter(index, types))
    ranked = [c for c in candidates if c.score >= thresholds.floor]
    return Resolution(query, decide(ranked, thresholds), tuple(ranked[:limit]))


def scored_entity_ids(
    index: AliasIndex, query: str, *, types: Iterable[str] | None = None
) -> frozenset[str]:
    """The entities whose forms were scored for ``query``, before any threshold:
    what candidate generation reached (the benchmarks measure its recall)."""
    return frozenset(
        c.entity.id for c in layered_candidates(index, query, TypeFilter(index, types))
    )


def layered_candidates(index: AliasIndex, query: str, pick: "TypeFilter") -> list[Candidate]:
    normal = normalize(query)
    if not normal:
        return []
    keys = form_keys(normal)
    for method, found in _whole_form_layers(index, query, keys):
        if method in SPELLING_BLIND:
            candidates = pick.closest_per_entity(found, normal, LAYER_SCORES[method], method)
        else:
            candidates = pick.best_per_entity(found, LAYER_SCORES[method], method)
        if method is Method.COMPOSITIONAL:
            candidates = with_exchanges(candidates, found)
        if candidates:
            return candidates
    untitled = without_titles(keys.exact)
    if untitled:  # "Additional Foreign Secretary Sayyid Haider Shah": the name, by any layer
        return layered_candidates(index, untitled[0], pick)
    return _fuzzy(index, keys, pick)


def decide(ranked: list[Candidate], thresholds: Thresholds) -> Status:
    if not ranked or ranked[0].score < thresholds.match:
        return Status.UNMATCHED
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < thresholds.margin:
        return Status.AMBIGUOUS
    return Status.MATCHED


def _whole_form_layers(
    index: AliasIndex, query: str, keys: FormKeys
) -> Iterable[tuple[Method, list[Posting]]]:
    # Generators: a layer is computed only when the ones before found nothing.
    yield Method.EXACT, index.lookup("exact", keys.exact)
    yield Method.STRUCTURAL, _structural(index, query, keys)
    if len(keys.compact) >= MIN_FOLDED_KEY:
        yield Method.TRANSLITERATION, index.lookup("transliteration", keys.transliteration)
    # Before phonetic: a composed form is curated word for word, part and rest,
    # where a phonetic key forgets the spelling of every word.
    yield Method.COMPOSITIONAL, composed(index, query, keys)
    if len(keys.phonetic.replace(" ", "")) >= MIN_PHONETIC_KEY:
        yield Method.PHONETIC, _spelt_alike(index.lookup_refs("phonetic", keys.phonetic), keys)


def _spelt_alike(found: list[FormRef], keys: FormKeys) -> list[Posting]:
    """The forms that sound like the mention and are spelt somewhat like it too."""
    return [
        ref.posting
        for ref in found
        # A form's transliteration key is its transliterated words, joined.
        if jellyfish.jaro_winkler_similarity(keys.transliteration, " ".join(ref.words))
        >= MIN_SPELLING_SIMILARITY
    ]


def _structural(index: AliasIndex, query: str, keys: FormKeys) -> list[Posting]:
    found = index.lookup("compact", keys.compact)
    if found:
        return found
    parts = parenthesised_parts(query)
    if parts is not None:
        for joined in joined_parts(*parts):
            found += _exact_or_compact(index, joined)
        if found:
            return found
        for part in parts:  # a name and its acronym: both must point one way
            found += _exact_or_compact(index, part)
        return found
    for untitled in without_titles(keys.exact):
        found = _exact_or_compact(index, untitled)
        if found:
            return found
    return found


def _exact_or_compact(index: AliasIndex, normal: str) -> list[Posting]:
    return index.lookup("exact", normal) or index.lookup("compact", normal.replace(" ", ""))


def _fuzzy(index: AliasIndex, keys: FormKeys, pick: "TypeFilter") -> list[Candidate]:
    if not keys.words or len(keys.words) > MAX_FUZZY_WORDS:
        return []
    scorer = index.memo("word-penalties", lambda: WordPenalties(index))
    mention_weights = [scorer.weight(w) for w in keys.words]
    best: dict[str, Candidate] = {}
    for ref in index.candidates(keys.words, FUZZY_CANDIDATES):
        entity = pick.entity(ref.posting.entity_id)
        if entity is None:
            continue
        score = weighted_dice(keys.words, mention_weights, ref.words, scorer)
        if entity.id not in best or score > best[entity.id].score:
            best[entity.id] = Candidate(entity, score, ref.posting.text, Method.FUZZY)
    return ranked(best.values())


class WordPenalties:
    """Word weights and one-sided penalties in one snapshot, each computed once."""

    def __init__(self, index: AliasIndex) -> None:
        self._index = index
        self._weights: dict[str, float] = {}
        self._mention: dict[str, float] = {}
        self._form: dict[str, float] = {}
        one_entity = index.word_weight("")  # the weight of a word no other entity uses
        self._naming = 2 * one_entity
        # Used by at most about sqrt(N) entities: distinctive, not a function word.
        self._distinctive = index.weight_of_share(math.sqrt(max(index.entity_count, 1)))

    def weight(self, word: str) -> float:
        found = self._weights.get(word)
        if found is None:
            found = self._weights[word] = self._index.word_weight(word)
        return found

    def _names_an_entity(self, word: str) -> bool:
        return self._index.has_key("transliteration", word)

    def mention_penalty(self, word: str) -> float:
        found = self._mention.get(word)
        if found is None:
            weight = self.weight(word)
            telling = weight >= self._distinctive or self._names_an_entity(word)
            found = self._mention[word] = max(weight, self._naming) if telling else weight
        return found

    def form_penalty(self, word: str) -> float:
        found = self._form.get(word)
        if found is None:
            weight = self.weight(word)
            telling = self._names_an_entity(word)
            found = self._form[word] = max(weight, self._naming) if telling else weight
        return found


class TypeFilter:
    """The entities of an index that a request asks for: of these types, or any."""

    def __init__(self, index: AliasIndex, types: Iterable[str] | None = None) -> None:
        self._index = index
        self.types = None if types is None else frozenset(t.casefold() for t in types)

    def entity(self, entity_id: str) -> EntityRecord | None:
        entity = self._index.entity(entity_id)
        if entity is None or (self.types and entity.type.casefold() not in self.types):
            return None
        return entity

    def best_per_entity(
        self, found: list[Posting], score: float, method: Method
    ) -> list[Candidate]:
        best: dict[str, Candidate] = {}
        for posting in found:
            entity = self.entity(posting.entity_id)
            # The canonical name explains a match better than an alias does.
            if entity is not None and (entity.id not in best or posting.text == entity.name):
                best[entity.id] = Candidate(entity, score, posting.text, method)
        return ranked(best.values())

    def closest_per_entity(
        self, found: list[Posting], normal: str, score: float, method: Method
    ) -> list[Candidate]:
        """Each entity's form spelt closest to ``normal``; the closest entity keeps
        ``score``, the others lose SPELLING_WEIGHT x how much farther they are."""
        closest: dict[str, tuple[float, Posting, EntityRecord]] = {}
        for posting in found:
            entity = self.entity(posting.entity_id)
            if entity is None:
                continue
            distance = 1 - jellyfish.jaro_winkler_similarity(normal, normalize(posting.text))
            if entity.id not in closest or distance < closest[entity.id][0]:
                closest[entity.id] = (distance, posting, entity)
        if not closest:
            return []
        nearest = min(distance for distance, _, _ in closest.values())
        return ranked(
            Candidate(entity, score - SPELLING_WEIGHT * (distance - nearest), posting.text, method)
            for distance, posting, entity in closest.values()
        )


def ranked(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.entity.id))

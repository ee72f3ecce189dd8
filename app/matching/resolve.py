"""Resolve one mention against an index snapshot, layer by layer.

The layers that keep the spelling come first, and the first that finds a
surface form of an entity of the wanted type decides:

``exact``           the normal form is a curated name or alias;
``structural``      so is a part of it: a parenthesised acronym, the name
                    without titles, or the words run together (I.S.K.P.).

Otherwise every approximate find stands beside the others, each scored by
how alike it is spelt (``app.matching.scoring``), and of each entity the
best counts; each candidate names the layer that found it as its ``method``:

``compositional``   a curated form with one part written as another name of
                    what that part names (``app.matching.composition``);
``transliteration`` the same words once romanisation variants are folded;
``phonetic``        the same words by sound (metaphone);
``fuzzy``           a form spelt alike, found by its trigrams or its words.

The decision is the product's promise: ``matched`` only when the best entity
reaches the threshold and beats every other entity by the margin;
``ambiguous`` when others come as close; ``unmatched`` otherwise. It never
guesses between entities. Candidates of equal score are ordered by their
entities' prominence; only a caller asking for ``TieBreak.PROMINENCE`` lets
prominence decide between namesakes, and the resolution then says so.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from app.matching.composition import COMPOSITIONAL_SCORE, Exchange, composed, with_exchanges
from app.matching.index import (
    AliasIndex,
    EntityRecord,
    FormRef,
    Keep,
    Layer,
    Posting,
)
from app.matching.keys import MIN_FOLDED_KEY, FormKeys, form_keys
from app.matching.normalize import normalize
from app.matching.scoring import (
    MentionWords,
    WordPenalties,
    is_abjad,
    is_syllabic,
    similarity,
)
from app.matching.structure import joined_parts, parenthesised_parts, without_titles


class Status(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


class TieBreak(StrEnum):
    """What may decide between entities that fit equally well, when asked."""

    PROMINENCE = "prominence"


class Method(StrEnum):
    EXACT = "exact"
    STRUCTURAL = "structural"
    TRANSLITERATION = "transliteration"
    COMPOSITIONAL = "compositional"
    PHONETIC = "phonetic"
    FUZZY = "fuzzy"


# What a match is worth at the layers that keep the spelling.
LAYER_SCORES = {Method.EXACT: 1.0, Method.STRUCTURAL: 0.98}
# Approximate finds score by their spelling (see ``similarity``), never above this.
MAX_APPROXIMATE_SCORE = 0.97
# What agreeing keys add to the spelling's similarity: evidence, not proof,
# so a sound-alike alone never lifts a name that is spelt unlike the mention.
KEY_EVIDENCE = {Method.TRANSLITERATION: 0.05, Method.PHONETIC: 0.03, Method.FUZZY: 0.0}
# A phonetic key this short (e.g. "TX" for Daesh) is too common to look up
# (a folded key: ``keys.MIN_FOLDED_KEY``).
MIN_PHONETIC_KEY = 4
FUZZY_CANDIDATES = 10
# A find by sound or folded spelling this close spares the search by spelling.
SURE_APPROXIMATE = 0.95
# Of the forms that share a key, at most this many (the closest spellings) are scored.
MAX_KEY_FINDS = 30
# Spellings less alike than this are not worth scoring.
MIN_SPELLING_CANDIDATE = 0.6
# Longer mentions are sentences, not names: no fuzzy scoring (a bounded cost).
MAX_FUZZY_WORDS = 12
MAX_FUZZY_CHARS = 160


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The decision rule's numbers (see README: Matching)."""

    match: float = 0.85  # the best entity's score needed for "matched"
    margin: float = 0.04  # by how much it must beat the runner-up
    floor: float = 0.6  # weaker candidates are not worth showing


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entity that a mention may name: how well, by which of its forms, found how."""

    entity: EntityRecord
    score: float
    matched_alias: str
    method: Method
    # What the compositional layer read as another name of the same entity.
    exchanged: tuple[Exchange, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answer for one mention: the decision and the candidates that led to it."""

    query: str
    status: Status
    candidates: tuple[Candidate, ...]
    # Set when the match was decided by it rather than by the margin.
    tie_break: TieBreak | None = None

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
    tie_break: TieBreak | None = None,
) -> Resolution:
    """Resolve ``query`` to at most ``limit`` candidates, best first, one per entity,
    among the entities of ``types`` (of any type when None). With ``tie_break``, an
    ambiguous mention is matched to the namesake that ``most_prominent`` sets apart."""
    candidates = layered_candidates(index, query, TypeFilter(index, types))
    ranked = [c for c in candidates if c.score >= thresholds.floor]
    status = decide(ranked, thresholds)
    if tie_break is TieBreak.PROMINENCE and status is Status.AMBIGUOUS:
        chosen = most_prominent(ranked, thresholds)
        if chosen is not None:
            ranked = [chosen, *(c for c in ranked if c is not chosen)]
            return Resolution(query, Status.MATCHED, tuple(ranked[:limit]), TieBreak.PROMINENCE)
    return Resolution(query, status, tuple(ranked[:limit]))


def scored_entity_ids(
    index: AliasIndex, query: str, *, types: Iterable[str] | None = None
) -> frozenset[str]:
    """The entities whose forms were scored for ``query``, before any threshold:
    what candidate generation reached (the benchmarks measure its recall)."""
    return frozenset(
        c.entity.id for c in layered_candidates(index, query, TypeFilter(index, types))
    )


def layered_candidates(
    index: AliasIndex, query: str, type_filter: "TypeFilter", *, strip_titles: bool = True
) -> list[Candidate]:
    """The best candidate of each entity ``type_filter`` keeps, ranked, before any
    threshold: the first spelling layer that finds one decides; otherwise every
    approximate find, the name without its titles and composed forms compete."""
    normal = normalize(query)
    if not normal:
        return []
    keys = form_keys(normal)
    for method, postings in _spelling_layers(index, query, keys):
        found = type_filter.best_per_entity(postings, LAYER_SCORES[method], method)
        if found:
            return found
    untitled: list[Candidate] = []
    names = without_titles(keys.exact) if strip_titles else []
    if names:
        # "Additional Foreign Secretary Sayyid Haider Shah": the name, by any layer.
        untitled = layered_candidates(index, names[-1], type_filter, strip_titles=False)
        if untitled and untitled[0].method in LAYER_SCORES:
            return untitled
    # A composed form (IS-Khorasan as Islamic State-Khorasan) and the name
    # without its titles stand beside the approximate finds ("Prince Eddward"
    # is no title and a name); of each entity the best find counts.
    composed_forms = composed(index, query, keys)
    found = type_filter.best_per_entity(composed_forms, COMPOSITIONAL_SCORE, Method.COMPOSITIONAL)
    return best_of_each(
        with_exchanges(found, composed_forms), untitled, _approximate(index, keys, type_filter)
    )


def _spelling_layers(
    index: AliasIndex, query: str, keys: FormKeys
) -> Iterator[tuple[Method, list[Posting]]]:
    # A generator: the structural layer is tried only when the exact one found nothing.
    yield Method.EXACT, index.lookup("exact", keys.exact)
    yield Method.STRUCTURAL, _structural(index, query, keys)


def decide(ranked: list[Candidate], thresholds: Thresholds) -> Status:
    """Matched only when the best reaches the threshold and beats the next by the margin."""
    if not ranked or ranked[0].score < thresholds.match:
        return Status.UNMATCHED
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < thresholds.margin:
        return Status.AMBIGUOUS
    return Status.MATCHED


def most_prominent(ranked: list[Candidate], thresholds: Thresholds) -> Candidate | None:
    """Among the candidates within the margin of the best, the one whose prominence
    is strictly above every other's, if it reaches the threshold itself. None when
    prominence sets none apart: a tie, or a candidate whose prominence is unknown."""
    close = [c for c in ranked if ranked[0].score - c.score < thresholds.margin]
    known = [(c.entity.prominence, c) for c in close if c.entity.prominence is not None]
    if len(known) < 2 or len(known) < len(close):
        return None
    top = max(prominence for prominence, _ in known)
    leaders = [c for prominence, c in known if prominence == top]
    if len(leaders) != 1 or leaders[0].score < thresholds.match:
        return None
    return leaders[0]


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
        return _agreeing(*(_exact_or_compact(index, part) for part in parts))
    for untitled in without_titles(keys.exact):
        found = _exact_or_compact(index, untitled)
        if found:
            return found
    return found


def _agreeing(outer: list[Posting], inner: list[Posting]) -> list[Posting]:
    """A name with its acronym or qualifier in parentheses: the forms of the
    entities both parts name; the name's own when the parenthesis names
    nothing; none when it names something else (Ministry of Defence
    (Afghanistan) is no ministry of the table's because Afghanistan is a name)."""
    if not inner:
        return outer
    named = {p.entity_id for p in outer} & {p.entity_id for p in inner}
    return [p for p in outer + inner if p.entity_id in named]


def _exact_or_compact(index: AliasIndex, normal: str) -> list[Posting]:
    return index.lookup("exact", normal) or index.lookup("compact", normal.replace(" ", ""))


def _approximate(index: AliasIndex, keys: FormKeys, type_filter: "TypeFilter") -> list[Candidate]:
    """Every form that approximate keys or spelling propose, each scored by
    ``similarity``; the best form of each entity.

    The forms that share the mention's sound or folded spelling come first;
    when one of them scores SURE_APPROXIMATE, the search by spelling is
    spared: only a stranger spelt as close but with another sound and folded
    spelling could come within the margin, a risk that the dev set's
    candidate recall measures.
    """
    scorer = WordPenalties.of(index)
    weights = [scorer.weight(w) for w in keys.words]
    mention = MentionWords(
        keys.latin,
        keys.words,
        weights,
        scorer,
        abjad=is_abjad(keys.exact),
        normal=keys.exact,
        syllabic=is_syllabic(keys.exact),
    )
    best: dict[str, Candidate] = {}
    seen: set[Posting] = set()

    def score(refs: list[FormRef], method: Method) -> None:
        for ref in refs:
            if ref.posting in seen:
                continue
            entity = type_filter.entity(ref.posting.entity_id)
            if entity is None:
                continue
            seen.add(ref.posting)
            found = similarity(mention, ref, KEY_EVIDENCE[method], MAX_APPROXIMATE_SCORE)
            if entity.id not in best or found > best[entity.id].score:
                best[entity.id] = Candidate(entity, found, ref.posting.text, method)

    def key_finds(layer: Layer, key: str) -> list[FormRef]:
        # Of a key shared by many namesakes, the closest spellings.
        return index.lookup_refs(layer, key, keys.latin, MAX_KEY_FINDS)

    if len(keys.compact) >= MIN_FOLDED_KEY:
        score(key_finds("transliteration", keys.transliteration), Method.TRANSLITERATION)
    if len(keys.phonetic.replace(" ", "")) >= MIN_PHONETIC_KEY:
        score(key_finds("phonetic", keys.phonetic), Method.PHONETIC)
    if not best or max(c.score for c in best.values()) < SURE_APPROXIMATE:
        score(_fuzzy_candidates(index, keys, type_filter.keep()), Method.FUZZY)
    return ranked(best.values())


def _fuzzy_candidates(index: AliasIndex, keys: FormKeys, keep: Keep | None) -> list[FormRef]:
    if not keys.words or len(keys.words) > MAX_FUZZY_WORDS or len(keys.latin) > MAX_FUZZY_CHARS:
        return []
    spelt = index.spelt_alike(keys.latin, FUZZY_CANDIDATES, MIN_SPELLING_CANDIDATE, keep)
    if len(keys.words) == 1:
        return spelt
    # Names of several words: also the forms that share the most (or most alike) words.
    return spelt + index.candidates(keys.words, FUZZY_CANDIDATES, keep)


class TypeFilter:
    """The entities of an index that a request asks for: of these types, or any."""

    def __init__(self, index: AliasIndex, types: Iterable[str] | None = None) -> None:
        self._index = index
        self.types = None if types is None else frozenset(t.casefold() for t in types)

    def keep(self) -> Keep | None:
        """Which forms the search by spelling should keep: None for every type."""
        if not self.types:
            return None
        return lambda posting: self.entity(posting.entity_id) is not None

    def entity(self, entity_id: str) -> EntityRecord | None:
        entity = self._index.entity(entity_id)
        if entity is None or (self.types and entity.type.casefold() not in self.types):
            return None
        return entity

    def best_per_entity(
        self, found: list[Posting], score: float, method: Method
    ) -> list[Candidate]:
        """Of the forms ``found`` by ``method``, one candidate per kept entity, ranked."""
        best: dict[str, Candidate] = {}
        for posting in found:
            entity = self.entity(posting.entity_id)
            # The canonical name explains a match better than an alias does.
            if entity is not None and (entity.id not in best or posting.text == entity.name):
                best[entity.id] = Candidate(entity, score, posting.text, method)
        return ranked(best.values())


def best_of_each(*lists: list[Candidate]) -> list[Candidate]:
    """The best candidate of each entity among ``lists``, ranked."""
    best: dict[str, Candidate] = {}
    for candidate in (c for found in lists for c in found):
        held = best.get(candidate.entity.id)
        if held is None or candidate.score > held.score:
            best[candidate.entity.id] = candidate
    return ranked(best.values())


def ranked(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Best first; among equal scores the more prominent first (the unknown last), then by ID."""
    return sorted(candidates, key=_rank)


def _rank(candidate: Candidate) -> tuple[float, bool, float, str]:
    prominence = candidate.entity.prominence
    return (-candidate.score, prominence is None, -(prominence or 0.0), candidate.entity.id)

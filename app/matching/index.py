"""The in-memory alias index: an immutable snapshot of the curated table.

A snapshot is a large *base* segment plus a small *overlay* that holds the
entities edited since the base was built. An edit makes a new snapshot that
shares the base and rebuilds only the overlay, so it costs as much as the
entities it touches, not the whole table; readers holding the old snapshot
are never disturbed. When the overlay grows large, the owner rebuilds a
fresh base (see ``app.live_index``).

Each segment keeps, for every surface form (a name or an alias):

* one dictionary per whole-form layer (``app.matching.keys``): exact,
  compact, transliteration and phonetic key → the forms that have it;
* the form's transliterated words, as ids into a word vocabulary that knows,
  for each word, its phonetic code, how many entities use it (its weight
  follows from that) and which forms contain it;
* phonetic blocks: each word's metaphone code and its one-letter deletions →
  the words that have it, so a misspelt word still finds its candidates
  (filed by a 64-bit digest of the code in sorted arrays: millions of short
  strings and dictionary slots would cost several times more);
* the form's Latin spelling, and for each letter trigram of those spellings
  the forms that have it (a numpy array): the forms sharing the most of a
  query's rarer trigrams are the candidates of character-level similarity;
* an Aho-Corasick automaton over the forms' spotting keys, and each form's
  case rule, for finding mentions in running text (``app.matching.spotting``).
"""

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from itertools import chain, islice
from types import MappingProxyType
from typing import Literal, TypeVar

import ahocorasick
import numpy as np
from rapidfuzz import fuzz, process

from app.matching.casing import CaseRule, Written, case_rule, is_capitalised, letters
from app.matching.keys import FormKeyMaker, deletion_keys, phonetic_word, trigrams
from app.matching.normalize import APOSTROPHES, normalize, spot_key
from app.matching.scoring import MIN_SOUND_LENGTH, may_be_similar, word_similarity

T = TypeVar("T")
K = TypeVar("K")
Keep = Callable[["Posting"], bool]  # which forms a caller wants (a type filter)
Layer = Literal["exact", "compact", "transliteration", "phonetic"]
LAYERS: tuple[Layer, ...] = ("exact", "compact", "transliteration", "phonetic")

# A word that more forms contain than this does not propose candidates by
# itself (it still counts in their scores): "state", "ministry", "pakistan".
MAX_WORD_POSTINGS = 500
# More words than this proposed for one word of a query: keep those of the same sound only.
MAX_PROPOSED_WORDS = 300
# Bound on the writings of other-case spotting keys a segment remembers.
MAX_REMEMBERED_WRITINGS = 100_000
# ...and on the words whose similar words, weights and penalties it remembers.
MAX_REMEMBERED_WORDS = 100_000
# Trigram candidates: a query's trigrams are taken rarest first until their
# forms number this many (the work per query is bounded whatever the table);
# the forms sharing the most of them are checked by their spelling.
MAX_TRIGRAM_POSTINGS = 15_000
TRIGRAM_CANDIDATES = 150
_NO_FORMS = np.empty(0, dtype=np.int32)
# Trigrams are filed by the length of the spelling too, in bands of this many
# letters: two spellings alike enough (rapidfuzz's ratio 0.85) differ in
# length by at most a third, so a query looks only in the bands near its own.
LENGTH_BAND = 3
SHORTEST_ALIKE, LONGEST_ALIKE = 0.75, 1.35


def _length_band(latin: str) -> str:
    return chr(0x30 + len(latin.replace(" ", "")) // LENGTH_BAND)


def _length_bands(latin: str) -> list[str]:
    """The bands of the spellings that may be alike to ``latin``."""
    length = len(latin.replace(" ", ""))
    low, high = int(length * SHORTEST_ALIKE), math.ceil(length * LONGEST_ALIKE)
    return [chr(0x30 + band) for band in range(low // LENGTH_BAND, high // LENGTH_BAND + 1)]


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """What the engine knows of one entity: its names, nothing of storage."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    # Aliases an editor marked case-sensitive (True) or not (False); the
    # others follow from their text (see app.matching.spotting).
    case_rules: tuple[tuple[str, bool], ...] = ()
    # Orders namesakes (e.g. a place's population); None when the table has none.
    prominence: float | None = None
    # Shown beside the name where candidates are chosen from (reconciliation, suggest).
    description: str | None = None

    def surface_forms(self) -> Iterator[str]:
        """The canonical name first, then every alias."""
        yield self.name
        yield from self.aliases

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Pickled by its fields in order: read back twice as fast as by name.
        return EntityRecord, (
            self.id,
            self.name,
            self.type,
            self.aliases,
            self.case_rules,
            self.prominence,
            self.description,
        )


@dataclass(frozen=True, slots=True)
class Posting:
    """One surface form of one entity."""

    entity_id: str
    text: str

    def __reduce__(self) -> tuple[type["Posting"], tuple[str, str]]:
        return Posting, (self.entity_id, self.text)


@dataclass(frozen=True, slots=True)
class FormRef:
    """A surface form found in a segment, with its words for scoring."""

    posting: Posting
    words: tuple[str, ...]
    latin: str


# One form id, or a tuple of them (see _add).
FormIds = int | tuple[int, ...]


def _add(table: dict[str, FormIds], key: str, form_id: int) -> None:
    # One int for a key with one form, a tuple for more: a million aliases
    # mostly have keys of their own, and an int costs far less than a list.
    found = table.get(key)
    if found is None:
        table[key] = form_id
    elif isinstance(found, int):
        table[key] = (found, form_id)
    else:
        table[key] = (*found, form_id)


WORD_START = " "


def spotting_automaton(keys: Iterable[str]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton over spotting keys, each behind a space.

    Texts are searched with a space in front too (``SpottedText.padded``), so
    a match can only begin where a word does: no match inside a word is
    reported, nor can one hide a real mention starting later (the "e l" of
    "the lahore" hiding "lahore"). Only its leading space belongs to a key,
    so neighbouring words still match one after the other.
    """
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
    for key in keys:
        automaton.add_word(WORD_START + key, key)
    if len(automaton):
        automaton.make_automaton()
    return automaton


def _spotting_key(text: str, normal: str) -> str:
    # The spotting key differs from the normal form only where an apostrophe
    # or a lone "s" is: most aliases have neither.
    if APOSTROPHES.isdisjoint(text) and " s " not in f" {normal} ":
        return normal
    return spot_key(text)


def most_common(proposed: list[np.ndarray], limit: int | None) -> list[int]:
    """The ids of ``proposed``, most often proposed first, ties in the order
    they were first proposed (as ``Counter.most_common``); the first ``limit``.
    """
    if not proposed:
        return []
    ids = np.concatenate(proposed).astype(np.int64)
    # Id and position in one number: sorted, each id's first proposal leads its run.
    keyed = (ids << 32) | np.arange(len(ids), dtype=np.int64)
    keyed.sort()
    starts = _run_starts(keyed >> 32)
    votes = _run_lengths(starts, len(keyed))
    # Unique ranks: more votes first, then the earlier first proposal.
    rank = (votes << 32) - (keyed[starts] & 0xFFFFFFFF)
    if limit is not None and len(rank) > limit:
        top = np.argpartition(-rank, limit)[:limit]
        order = top[np.argsort(-rank[top])]
    else:
        order = np.argsort(-rank)
    return (keyed[starts[order]] >> 32).tolist()


def _flattened(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of ids as one array and where each begins (its last entry, the total)."""
    sizes = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    starts = np.concatenate(([0], np.cumsum(sizes)))
    flat = np.fromiter(chain.from_iterable(lists), dtype=np.int32, count=int(sizes.sum()))
    return starts, flat


def _digest(key: str) -> int:
    """A key's 64-bit digest, the same in every process (``hash`` is not)."""
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "little")


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array begins."""
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return np.flatnonzero(first)


def _run_lengths(starts: np.ndarray, total: int) -> np.ndarray:
    """How long each run is, from where they begin (``np.diff`` with less overhead)."""
    lengths = np.empty_like(starts)
    lengths[:-1] = starts[1:]
    lengths[-1] = total
    lengths -= starts
    return lengths


def remembered(
    memo: dict[K, T], key: K, compute: Callable[[K], T], bound: int = MAX_REMEMBERED_WORDS
) -> T:
    """``compute(key)``, kept in ``memo`` (never None); the memo is emptied
    when it holds ``bound`` answers, so it stays bounded whatever the traffic."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= bound:
            memo.clear()
        found = memo[key] = compute(key)
    return found


def form_ids(found: FormIds | None) -> tuple[int, ...]:
    if found is None:
        return ()
    return (found,) if isinstance(found, int) else found


class Segment:
    """A set of entities and the lookup structures built over their forms."""

    def __init__(self, entities: Iterable[EntityRecord]) -> None:
        self.entities: Mapping[str, EntityRecord] = {}
        self.postings: list[Posting] = []
        self.form_words: list[tuple[str, ...]] = []  # each form's words, as in ``words``
        self.keys: dict[Layer, dict[str, FormIds]] = {layer: {} for layer in LAYERS}
        self.vocabulary: dict[str, int] = {}
        self.words: list[str] = []
        self.word_entities: list[int] = []  # how many entities use each word
        self.word_forms: list[list[int]] = []  # while building; then flat, below
        # The forms of word w: word_form_ids[word_form_starts[w] : word_form_starts[w + 1]].
        self.word_form_starts = np.zeros(1, dtype=np.int64)
        self.word_form_ids = _NO_FORMS
        self._similar_words: dict[str, tuple[int, ...]] = {}
        # While building: each code's digest and a word filed under it; then as arrays, below.
        self._block_pairs: tuple[array[int], array[int]] = (array("Q"), array("i"))
        # The words of the code whose digest is block_digests[b] (sorted):
        # block_word_ids[block_starts[b] : block_starts[b + 1]].
        self.block_digests = np.empty(0, dtype=np.uint64)
        self.block_starts = np.zeros(1, dtype=np.int64)
        self.block_word_ids = _NO_FORMS
        self.latin: list[str] = []  # each form's Latin spelling
        # The forms of each trigram (and length band), in one array: those of the
        # gram numbered g are trigram_form_ids[trigram_starts[g] : trigram_starts[g + 1]].
        self.trigram_numbers: dict[str, int] = {}
        self.trigram_starts = np.zeros(1, dtype=np.int64)
        self.trigram_form_ids = _NO_FORMS
        self.spot_keys: dict[str, FormIds] = {}
        self.case_rules: list[CaseRule] = []
        # The spotting keys with a form whose rule is not CAPITALISED (every name's but few).
        self.other_case_keys: set[str] = set()
        self._written_as: dict[tuple[str, str], tuple[int, ...]] = {}
        self.alias_letters: dict[int, str] = {}  # of the forms whose case must be exact
        self.alias_count = 0
        self.type_counts: Counter[str] = Counter()  # how many entities have each type
        # One object per distinct string while building: the layers' keys of a
        # form are often equal (and equal to other forms' keys), and a million
        # forms would otherwise keep millions of copies.
        self._strings: dict[str, str] = {}
        # Likewise one tuple per distinct list of words, by its transliteration
        # key (the words joined): a place's names in many scripts often share it.
        self._word_lists: dict[str, tuple[str, ...]] = {}
        by_id: dict[str, EntityRecord] = {}
        self._key_maker = FormKeyMaker()
        for entity in entities:
            by_id[entity.id] = entity
            self._add_entity(entity)
        del self._key_maker
        self.type_counts.update(entity.type for entity in by_id.values())
        self.entities = MappingProxyType(by_id)
        self._index_trigrams()
        self._flatten_word_forms()
        self._index_blocks()
        del self._strings, self._word_lists, self._block_pairs
        self.automaton = spotting_automaton(self.spot_keys)

    # Pickled without what a snapshot learns while it serves (its memos). The
    # automaton is pickled too: read back, it is ready four times sooner than built.
    _LEARNT = ("_similar_words", "_written_as")

    def __getstate__(self) -> dict[str, object]:
        state = {k: v for k, v in self.__dict__.items() if k not in self._LEARNT}
        state["entities"] = dict(self.entities)  # a mapping proxy does not pickle
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.entities = MappingProxyType(self.__dict__["entities"])
        self._similar_words, self._written_as = {}, {}

    def _add_entity(self, entity: EntityRecord) -> None:
        # The hot loop of a build: a million forms pass here, so lookups are local.
        self.alias_count += len(entity.aliases)
        entity_words: set[int] = set()
        seen: set[str] = set()
        explicit = dict(entity.case_rules) if entity.case_rules else {}
        tables = [(self.keys[layer], layer) for layer in LAYERS]
        one = self._strings.setdefault
        postings, form_words, word_forms = self.postings, self.form_words, self.word_forms
        word_lists, vocabulary = self._word_lists, self.words.__getitem__
        for text in entity.surface_forms():
            normal = normalize(text)
            if not normal or normal in seen:
                continue
            seen.add(normal)
            form_id = len(postings)
            postings.append(Posting(entity.id, text))
            keys = self._key_maker.keys(normal)
            for table, layer in tables:
                key = getattr(keys, layer)
                _add(table, one(key, key), form_id)
            spotting_key = _spotting_key(text, normal)
            _add(self.spot_keys, one(spotting_key, spotting_key), form_id)
            rule = case_rule(text, explicit.get(text))
            self.case_rules.append(rule)
            if rule is not CaseRule.CAPITALISED:
                self.other_case_keys.add(spotting_key)
            if rule is CaseRule.EXACT:
                self.alias_letters[form_id] = letters(text)
            self.latin.append(one(keys.latin, keys.latin))
            word_ids = [self._word_id(word) for word in keys.words]
            words = word_lists.get(keys.transliteration)
            if words is None:
                words = word_lists[keys.transliteration] = tuple(map(vocabulary, word_ids))
            form_words.append(words)
            for word_id in set(word_ids):
                word_forms[word_id].append(form_id)
            entity_words.update(word_ids)
        for word_id in entity_words:
            self.word_entities[word_id] += 1

    def _index_trigrams(self) -> None:
        found: dict[str, list[int]] = {}
        for form_id, spelling in enumerate(self.latin):
            band = _length_band(spelling)
            for gram in trigrams(spelling):
                gram += band
                forms = found.get(gram)
                if forms is None:
                    found[gram] = [form_id]
                else:
                    forms.append(form_id)
        # One array, not one per trigram: tens of thousands of small arrays
        # cost far more than their contents, above all once read back.
        self.trigram_numbers = {gram: number for number, gram in enumerate(found)}
        self.trigram_starts, self.trigram_form_ids = _flattened(list(found.values()))

    def _flatten_word_forms(self) -> None:
        # One array instead of a list per word: the forms of several words are
        # counted at once (``AliasIndex.candidates``), and it is smaller.
        self.word_form_starts, self.word_form_ids = _flattened(self.word_forms)
        self.word_forms = []

    def _index_blocks(self) -> None:
        digests = np.frombuffer(self._block_pairs[0], dtype=np.uint64)
        words = np.frombuffer(self._block_pairs[1], dtype=np.int32)
        # Stable: the words of a code stay in the order they were filed.
        order = np.argsort(digests, kind="stable")
        digests, self.block_word_ids = digests[order], words[order]
        if len(digests):
            starts = _run_starts(digests)
            self.block_digests = digests[starts]
            self.block_starts = np.append(starts, len(digests))

    def block(self, code: str) -> tuple[int, ...]:
        """The words filed under a phonetic code (or a code one letter shorter)."""
        return self.blocks_of([code])[0]

    def blocks_of(self, codes: list[str]) -> list[tuple[int, ...]]:
        """The words filed under each of ``codes``, searched for all at once."""
        filed = self.block_digests
        if not len(filed):
            return [() for _ in codes]
        digests = np.fromiter(map(_digest, codes), dtype=np.uint64, count=len(codes))
        found = np.minimum(np.searchsorted(filed, digests), len(filed) - 1)
        starts, ends = self.block_starts[found].tolist(), self.block_starts[found + 1].tolist()
        words = self.block_word_ids
        hits = (filed[found] == digests).tolist()
        return [
            tuple(words[start:end].tolist()) if hit else ()
            for hit, start, end in zip(hits, starts, ends, strict=True)
        ]

    def forms_of_word(self, word_id: int) -> np.ndarray:
        start, end = self.word_form_starts[word_id : word_id + 2].tolist()
        return self.word_form_ids[start:end]

    def spelt_near(self, query_grams: Iterable[str], bands: list[str]) -> np.ndarray:
        """The forms of a length in ``bands`` that share the most of the query's
        trigrams, rarest first.

        Trigrams are taken from the rarest until their forms would pass
        MAX_TRIGRAM_POSTINGS; the TRIGRAM_CANDIDATES forms that have the most
        of those are returned, in no order.
        """
        table = self.trigram_numbers
        keys = [g + band for g in query_grams for band in bands]
        numbers = np.array([n for key in keys if (n := table.get(key)) is not None], dtype=np.int64)
        starts, ends = self.trigram_starts[numbers], self.trigram_starts[numbers + 1]
        sizes = ends - starts
        rarest_first = np.argsort(sizes, kind="stable")
        chosen, budget = [], MAX_TRIGRAM_POSTINGS
        for start, end, size in zip(
            starts[rarest_first].tolist(),
            ends[rarest_first].tolist(),
            sizes[rarest_first].tolist(),
            strict=True,
        ):
            if size > budget:
                break
            budget -= size
            chosen.append(self.trigram_form_ids[start:end])
        if not chosen:
            return _NO_FORMS
        # Equal ids are alike, so the sort need not be stable: numpy's default
        # (vectorised) sort is several times faster than its merge sort here.
        ordered = np.concatenate(chosen)
        ordered.sort()
        starts = _run_starts(ordered)
        form_ids = ordered[starts]
        if len(form_ids) > TRIGRAM_CANDIDATES:
            votes = _run_lengths(starts, len(ordered))
            form_ids = form_ids[np.argpartition(-votes, TRIGRAM_CANDIDATES)[:TRIGRAM_CANDIDATES]]
        return form_ids

    def _word_id(self, word: str) -> int:
        word_id = self.vocabulary.get(word)
        if word_id is None:
            word_id = len(self.words)
            self.vocabulary[word] = word_id
            self.words.append(word)
            self.word_entities.append(0)
            self.word_forms.append([])
            digests, words = self._block_pairs
            for key in deletion_keys(phonetic_word(word)):
                digests.append(_digest(key))
                words.append(word_id)
        return word_id

    def lookup(self, layer: Layer, key: str) -> tuple[int, ...]:
        return form_ids(self.keys[layer].get(key))

    def similar_words(self, word: str) -> tuple[int, ...]:
        """The words that ``word_similarity`` credits: alike in spelling or sound.

        Phonetic blocks (one typo allowed) propose them, and the scorer's own
        similarity keeps only those it would count, so no candidate comes in
        that could not score. Names share their words (San, Santa, Xian), so
        the answer is remembered.
        """
        return remembered(self._similar_words, word, self._alike_words)

    def _alike_words(self, word: str) -> tuple[int, ...]:
        exact = self.vocabulary.get(word)
        found = [] if exact is None else [exact]
        if len(word) < MIN_SOUND_LENGTH:
            return tuple(found)
        code = phonetic_word(word)
        # The words filed under the code itself may be of the same sound; the
        # others can only be spelt alike. Most fail both, tested all at once.
        same_block, *blocks = self.blocks_of([code, *deletion_keys(code)])
        same_code = set(same_block)
        proposed: set[int] = set()
        for words in blocks:
            proposed.update(words)
        if len(proposed) > MAX_PROPOSED_WORDS:
            proposed = set(same_code)
        proposed.discard(-1 if exact is None else exact)
        ordered = list(proposed)
        others = [self.words[w] for w in ordered]
        may = may_be_similar(word, others, [w in same_code for w in ordered])
        found.extend(
            w
            for w, other, maybe in zip(ordered, others, may, strict=True)
            if maybe and word_similarity(word, other) > 0
        )
        return tuple(found)

    def spotted(self, key: str) -> tuple[int, ...]:
        """The forms whose spotting key is ``key``."""
        return form_ids(self.spot_keys.get(key))

    def forms_written_as(self, key: str, written: str) -> tuple[int, ...]:
        """The forms of a spotting key that ``written``, found in text, may be a mention of."""
        if key not in self.other_case_keys:
            return self.spotted(key) if is_capitalised(written) else ()
        # Acronyms mostly, met again and again as written ("US", "TTP"): kept.
        found = self._written_as.get((key, written))
        if found is None:
            if len(self._written_as) >= MAX_REMEMBERED_WRITINGS:
                self._written_as.clear()
            text = Written(written)
            found = self._written_as[key, written] = tuple(
                f
                for f in self.spotted(key)
                if text.allows(self.case_rules[f], self.alias_letters.get(f, ""))
            )
        return found

    def postings_of(self, forms: FormIds) -> list[Posting]:
        return [self.postings[f] for f in form_ids(forms)]

    def without_entities(self, forms: FormIds, entity_ids: frozenset[str]) -> tuple[int, ...]:
        """The forms that belong to none of ``entity_ids``."""
        return tuple(f for f in form_ids(forms) if self.postings[f].entity_id not in entity_ids)

    def ref(self, form_id: int) -> FormRef:
        return FormRef(self.postings[form_id], self.form_words[form_id], self.latin[form_id])


EMPTY_SEGMENT = Segment(())


@dataclass(frozen=True, slots=True)
class AliasIndex:
    """An immutable snapshot: a base segment, minus hidden IDs, plus an overlay."""

    base: Segment = EMPTY_SEGMENT
    overlay: Segment = EMPTY_SEGMENT
    # Entities of the base that were edited or deleted since it was built.
    hidden: frozenset[str] = field(default_factory=frozenset)
    # The types the table declares (as written there); empty when types are free words.
    declared_types: tuple[str, ...] = ()
    # What callers derive from this snapshot, kept while it lives: it never changes.
    _memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, entities: Iterable[EntityRecord]) -> "AliasIndex":
        return cls(base=Segment(entities))

    def with_changes(
        self, upserts: Iterable[EntityRecord], removed: Iterable[str] = ()
    ) -> "AliasIndex":
        """A new snapshot in which ``upserts`` replace their namesakes and ``removed`` are gone."""
        changed = {entity.id: entity for entity in upserts}
        gone = set(removed) | changed.keys()
        kept = (e for e in self.overlay.entities.values() if e.id not in gone)
        return AliasIndex(
            base=self.base,
            overlay=Segment([*kept, *changed.values()]),
            hidden=self.hidden | (gone & self.base.entities.keys()),
            declared_types=self.declared_types,
        )

    def with_declared_types(self, declared: Iterable[str]) -> "AliasIndex":
        """This snapshot, with ``declared`` as the table's declared types."""
        declared = tuple(declared)
        if declared == self.declared_types:
            return self
        return replace(self, declared_types=declared, _memo={})

    def types_in_use(self) -> frozenset[str]:
        """The types that the snapshot's entities have."""
        return self.memo("types_in_use", self._count_types)

    def _count_types(self) -> frozenset[str]:
        counts = self.base.type_counts.copy()
        counts.subtract(self.base.entities[i].type for i in self.hidden)
        counts.update(self.overlay.type_counts)
        return frozenset(kind for kind, count in counts.items() if count > 0)

    def known_types(self) -> dict[str, str]:
        """The declared types and those in use, by their case-folded name."""
        return self.memo("known_types", self._known_types)

    def _known_types(self) -> dict[str, str]:
        known = {kind.casefold(): kind for kind in sorted(self.types_in_use())}
        known.update((kind.casefold(), kind) for kind in self.declared_types)
        return known

    def memoized(self, name: str) -> bool:
        """Whether ``memo(name, ...)`` has been made for this snapshot."""
        return name in self._memo

    def memo(self, name: str, make: Callable[[], T]) -> T:
        """``make()`` once per snapshot, under ``name``."""
        if name not in self._memo:
            self._memo[name] = make()
        return self._memo[name]  # type: ignore[return-value]

    def entity(self, entity_id: str) -> EntityRecord | None:
        found = self.overlay.entities.get(entity_id)
        if found is None and entity_id not in self.hidden:
            found = self.base.entities.get(entity_id)
        return found

    def entities(self) -> Iterator[EntityRecord]:
        for entity in self.base.entities.values():
            if entity.id not in self.hidden:
                yield entity
        yield from self.overlay.entities.values()

    def lookup(self, layer: Layer, key: str) -> list[Posting]:
        """Every surface form whose ``layer`` key is ``key``."""
        return [ref.posting for ref in self._refs(layer, key)]

    def lookup_refs(self, layer: Layer, key: str) -> list[FormRef]:
        """As ``lookup``, with each form's transliterated words."""
        return list(self._refs(layer, key))

    def has_key(self, layer: Layer, key: str) -> bool:
        """Whether any form has this key (hidden entities of the base included)."""
        return any(key in segment.keys[layer] for segment in self._segments())

    def exact(self, key: str) -> list[Posting]:
        return self.lookup("exact", key)

    def _refs(self, layer: Layer, key: str) -> Iterator[FormRef]:
        for segment in self._segments():
            for form_id in segment.lookup(layer, key):
                ref = segment.ref(form_id)
                if self._visible(ref.posting, segment):
                    yield ref

    def _segments(self) -> Iterator[Segment]:
        yield self.base
        if self.overlay.postings:
            yield self.overlay

    def spotting_segments(self) -> Iterator[tuple[Segment, frozenset[str]]]:
        """Each segment with the entity IDs whose forms in it no longer count."""
        yield self.base, self.hidden
        if self.overlay.postings:
            yield self.overlay, frozenset()

    def _visible(self, posting: Posting, segment: Segment) -> bool:
        return segment is self.overlay or posting.entity_id not in self.hidden

    def word_weight(self, word: str) -> float:
        """How much a word tells entities apart: log(1 + N / entities using it).

        A word no entity uses weighs as if one did.
        """
        using = sum(
            segment.word_entities[i]
            for segment in self._segments()
            if (i := segment.vocabulary.get(word)) is not None
        )
        return self.weight_of_share(using)

    def weight_of_share(self, entities_using: float) -> float:
        """The weight of a word that this many entities use."""
        return math.log1p(max(self.entity_count, 1) / max(entities_using, 1))

    def candidates(
        self, words: Iterable[str], limit: int, keep: "Keep | None" = None
    ) -> list[FormRef]:
        """The forms that share the most (or most alike) words with ``words``,
        at most ``limit`` of each segment that ``keep`` keeps.

        Words used by very many forms propose no candidates of their own, so
        the work per query stays bounded whatever the size of the table.
        """
        found: list[FormRef] = []
        for segment in self._segments():
            proposed = [
                forms
                for word in set(words)
                for word_id in segment.similar_words(word)
                if len(forms := segment.forms_of_word(word_id)) <= MAX_WORD_POSTINGS
            ]
            filtered = self._filters(segment, keep)
            ranked = most_common(proposed, None if filtered else limit)
            kept = (f for f in ranked if self._kept(segment, f, keep))
            found.extend(segment.ref(f) for f in islice(kept, limit))
        return found

    def _filters(self, segment: Segment, keep: "Keep | None") -> bool:
        """Whether some forms of ``segment`` are not ``_kept``: a caller's filter,
        or entities of the base edited since it was built."""
        return keep is not None or (segment is self.base and bool(self.hidden))

    def _kept(self, segment: Segment, form_id: int, keep: "Keep | None") -> bool:
        posting = segment.postings[form_id]
        return self._visible(posting, segment) and (keep is None or keep(posting))

    def spelt_alike(
        self,
        latin: str,
        limit: int,
        cutoff: float,
        keep: "Keep | None" = None,
    ) -> list[FormRef]:
        """At most ``limit`` forms that ``keep`` keeps whose Latin spelling is at
        least ``cutoff`` alike to ``latin`` (rapidfuzz's ratio, 0 to 1, or
        token_sort_ratio for several words), most alike first."""
        query_grams = trigrams(latin)
        bands = _length_bands(latin)
        scorers = (fuzz.ratio, fuzz.token_sort_ratio) if " " in latin else (fuzz.ratio,)
        found: list[tuple[float, int, Segment]] = []
        for segment in self._segments():
            form_ids = segment.spelt_near(query_grams, bands)
            if self._filters(segment, keep):
                form_ids = np.array(
                    [f for f in form_ids.tolist() if self._kept(segment, f, keep)], dtype=np.int32
                )
            if not len(form_ids):
                continue
            ids = form_ids.tolist()
            spellings = list(map(segment.latin.__getitem__, ids))
            for scorer in scorers:
                found.extend(
                    (similarity, ids[i], segment)
                    for _, similarity, i in process.extract(
                        latin, spellings, scorer=scorer, score_cutoff=cutoff * 100, limit=limit
                    )
                )
        found.sort(key=lambda pair: -pair[0])
        refs: dict[Posting, FormRef] = {}
        for _, form_id, segment in found:
            posting = segment.postings[form_id]  # kept: filtered before it was spelt
            if posting not in refs:
                refs[posting] = segment.ref(form_id)
                if len(refs) == limit:
                    break
        return list(refs.values())

    @property
    def entity_count(self) -> int:
        return len(self.base.entities) - len(self.hidden) + len(self.overlay.entities)

    @property
    def alias_count(self) -> int:
        hidden_aliases = sum(len(self.base.entities[i].aliases) for i in self.hidden)
        return self.base.alias_count - hidden_aliases + self.overlay.alias_count

    @property
    def overlay_size(self) -> int:
        return len(self.overlay.entities) + len(self.hidden)

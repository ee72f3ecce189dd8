"""The in-memory alias index: an immutable snapshot of the curated table.

A snapshot is a large *base* segment plus a small *overlay* that holds the
entities edited since the base was built. An edit makes a new snapshot that
shares the base and rebuilds only the overlay, so it costs as much as the
entities it touches, not the whole table; readers holding the old snapshot
are never disturbed. When the overlay grows large, the owner rebuilds a
fresh base (see ``app.live_index``).

A segment keeps its surface forms (a name or an alias each) in parallel
arrays indexed by form id, not as Python objects per form: a million forms
as objects would cost over a gigabyte. Its entities are packed likewise
(``app.matching.records``). For every form it keeps:

* its entity (a number into the segment's ``EntityTable``) and its place
  among that entity's surface forms, from which its ``Posting`` is made when
  asked for;
* its key in each whole-form layer (``app.matching.keys``): exact, compact,
  transliteration and phonetic, each layer as the keys' digests, sorted, beside
  the form ids: the forms of a key are one run of that array;
* its transliterated words, as ids into a word vocabulary that knows,
  for each word, its phonetic code, how many entities use it (its weight
  follows from that) and which forms contain it;
* phonetic blocks: each word's metaphone code and its one-letter deletions →
  the words that have it, so a misspelt word still finds its candidates
  (filed by the same digest of the code in sorted arrays);
* its Latin spelling, in one ASCII string, and for each letter trigram of the
  spellings (and their length band, in one integer code) the forms that have
  it: the forms sharing the most of a query's rarer trigrams are the
  candidates of character-level similarity;
* its spotting key and case rule, for finding mentions in running text
  (``app.matching.spotting_keys``, searched by ``app.matching.spotting``).

Keys are filed by their 64-bit digest alone (``digest``), never compared as
text. Two of a layer's n distinct keys share a digest with odds of about
n²/2⁶⁵ (4·10⁻⁸ for the 1.2 million keys of a million aliases), and a query's
key not in the table meets one of them with odds n/2⁶⁴. Should it happen, a
lookup of either key would also find the other's forms, as if they had the
key; at the exact and compact layers, where that would be a match, each form
found is checked against the key as text (``Segment.lookup``).
"""

import logging
import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice

import numpy as np
from rapidfuzz import fuzz, process

from app.matching.arrays import (
    distinct,
    grouped,
    int32s,
    merged_pairs,
    merged_runs,
    most_common,
    run_lengths,
    run_starts,
    sorted_form_ids,
    stably_sorted,
)
from app.matching.caches import SnapshotCaches
from app.matching.derived_forms import (
    BAND_SHIFT,
    LAYERS,
    LENGTH_BAND,
    PARALLEL_FROM_FORMS,
    DerivedForms,
    Layer,
    WorkerFailed,
    WorkerRuns,
    can_fork,
    derived_in_workers,
    entity_forms,
    sorted_trigrams,
    word_block_digests,
)
from app.matching.keys import FormKeyMaker, deletion_keys, digest, phonetic_word, trigrams
from app.matching.normalize import normalize
from app.matching.records import EntityRecord, EntityTable
from app.matching.scoring import MIN_SOUND_LENGTH, may_be_similar, word_similarity
from app.matching.spotting_keys import FormIds, KeysListener, SpottingKeys, form_ids

log = logging.getLogger(__name__)
Keep = Callable[["Posting"], bool]  # which forms a caller wants (a type filter)

# A word that more forms contain than this does not propose candidates by
# itself (it still counts in their scores): "state", "ministry", "pakistan".
MAX_WORD_POSTINGS = 500
# More words than this proposed for one word of a query: keep those of the same sound only.
MAX_PROPOSED_WORDS = 300
# Trigram candidates: a query's trigrams are taken rarest first until their
# forms number this many (the work per query is bounded whatever the table);
# the forms sharing the most of them are checked by their spelling.
MAX_TRIGRAM_POSTINGS = 15_000
TRIGRAM_CANDIDATES = 150
_NO_FORMS = np.empty(0, dtype=np.int32)
# Trigrams are filed by the length of the spelling too, in bands of this many
# letters (``derived_forms.LENGTH_BAND``): two spellings alike enough
# (rapidfuzz's ratio 0.85) differ in length by at most a third, so a query
# looks only in the bands near its own.
SHORTEST_ALIKE, LONGEST_ALIKE = 0.75, 1.35
# The layers whose keys are checked as text once found by digest (Segment.lookup).
_CHECKED_LAYERS = frozenset(("exact", "compact"))


def _length_bands(latin: str) -> list[int]:
    """The bands of the spellings that may be alike to ``latin``."""
    length = len(latin.replace(" ", ""))
    low, high = int(length * SHORTEST_ALIKE), math.ceil(length * LONGEST_ALIKE)
    return list(range(low // LENGTH_BAND, high // LENGTH_BAND + 1))


def _query_trigram_codes(grams: Iterable[str], bands: list[int]) -> np.ndarray:
    """The codes of each of a query's trigrams (ASCII) in each of ``bands``, gram by gram."""
    letters = np.frombuffer("".join(grams).encode("ascii"), dtype=np.uint8).reshape(-1, 3)
    letters = letters.astype(np.int64)
    grams_alone = letters[:, 0] << 16 | letters[:, 1] << 8 | letters[:, 2]
    banded = np.array(bands, dtype=np.int64) << BAND_SHIFT
    return (grams_alone[:, None] | banded[None, :]).ravel()


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


# A layer's digests are cut into buckets by their leading bits, about this
# many keys to a bucket: a lookup searches one bucket, a few neighbouring
# cache lines, where a search of the whole array would wait for memory at
# most of its twenty steps. A bucket's start costs half a byte per key.
KEYS_PER_BUCKET = 16


@dataclass(frozen=True, slots=True)
class FiledKeys:
    """Keys and the forms that have them, filed by digest: the forms of a key
    are ``form_ids[i:j]`` where ``digests[i:j]`` are the key's digest.

    The digests whose leading ``64 - shift`` bits are b are
    ``digests[buckets[b] : buckets[b + 1]]``. All are ``array``s, searched with
    ``bisect``: a query looks up one key at a time, and a binary search over
    Python ints costs a fraction of numpy's call for one value."""

    digests: "array[int]"  # sorted
    form_ids: "array[int]"
    buckets: "array[int]"
    shift: int

    @classmethod
    def of(cls, filed: np.ndarray, form_ids: np.ndarray) -> "FiledKeys":
        """Filed from key digests, sorted, and the forms that have them (a key's
        forms in form order)."""
        bits = (len(filed) // KEYS_PER_BUCKET).bit_length()
        shift = 64 - bits
        firsts = np.arange(1, 1 << bits, dtype=np.uint64) << np.uint64(shift % 64)
        buckets = np.concatenate(([0], np.searchsorted(filed, firsts), [len(filed)]))
        return cls(array("Q", filed.tobytes()), int32s(form_ids), int32s(buckets), shift)

    def forms(self, key: str) -> tuple[int, ...]:
        start, end = self._run(key)
        return tuple(self.form_ids[start:end])

    def __contains__(self, key: object) -> bool:
        start, end = self._run(str(key))
        return start < end

    def _run(self, key: str) -> tuple[int, int]:
        # One search in the key's bucket, then a step per form: most keys have one or two.
        wanted = digest(key)
        filed, bucket = self.digests, wanted >> self.shift
        last = self.buckets[bucket + 1]
        start = end = bisect_left(filed, wanted, self.buckets[bucket], last)
        while end < last and filed[end] == wanted:
            end += 1
        return start, end


class Segment:
    """A set of entities and the lookup structures built over their forms."""

    def __init__(
        self,
        entities: Iterable[EntityRecord],
        *,
        workers: int = 1,
        parallel_from: int = PARALLEL_FROM_FORMS,
        keys_numbered: KeysListener | None = None,
    ) -> None:
        """Built from ``entities``: their forms derived by ``workers`` processes
        when they number ``parallel_from`` or more (and the system can fork),
        else in this one. Either way the segment is the same.

        Ready to search, unless ``keys_numbered`` is given: a build for another
        process, which is told the spotting keys as they are numbered (run
        after run, by workers), the last before the rest of the build is
        finished, and makes their automaton (``SpottingKeys.make_automaton``).
        """
        records = list(entities)
        self.alias_count = sum(len(entity.aliases) for entity in records)
        self._start_empty()
        parallel = workers > 1 and can_fork() and self.alias_count + len(records) >= parallel_from
        runs = _runs_by_workers(records, workers) if parallel else None
        try:  # made while the workers derive the first runs
            self.entities = EntityTable(records)
            self.type_counts: Counter[str] = Counter(self.entities.types())
        except BaseException:  # interrupted: the workers go with it
            if runs is not None:
                runs.stop()
            raise
        told = 0  # keys told to ``keys_numbered``
        if runs is not None:
            try:
                for derived in runs:
                    numbered = self._file_derived(derived)
                    if keys_numbered is not None:
                        keys_numbered.numbered(numbered)
                        told += len(numbered)
            except WorkerFailed as error:
                _building_on_one_core(error)
                # Built again in form order, the keys are numbered as before: those told stay.
                self._start_empty()
                runs = None
        if runs is None:
            self._add_entities(records)
        self._finish(keys_numbered, told)

    def _start_empty(self) -> None:
        """No form yet: what the build fills, form after form."""
        # Each form's entity, as a number into ``entities``, and its place among
        # that entity's surface forms (0 the name, 1 its first alias ...).
        self.form_entities = array("i")
        self.form_places = array("i")
        # The words of form f: form_word_ids[form_word_starts[f] : form_word_starts[f + 1]].
        self.form_word_starts = array("i", [0])
        self.form_word_ids = array("i")
        # The Latin spelling of form f (ASCII: a byte a letter, as bytes would be):
        # latin_text[latin_starts[f] : latin_starts[f + 1]].
        self.latin_starts = array("q", [0])
        self.latin_text = ""
        self.keys: dict[Layer, FiledKeys] = {}
        self.vocabulary: dict[str, int] = {}
        self.words: list[str] = []
        self.word_entities: list[int] = []  # how many entities use each word
        # While building by workers: the same, counted run after run (``word_entities`` at the end).
        self._word_users = np.zeros(0, dtype=np.int64)
        # While building: a word and a form that contains it, pair by pair; then flat, below.
        self._word_form_pairs: tuple[array[int], array[int]] = (array("i"), array("i"))
        # The forms of word w: word_form_ids[word_form_starts[w] : word_form_starts[w + 1]].
        self.word_form_starts = np.zeros(1, dtype=np.int64)
        self.word_form_ids = _NO_FORMS
        # While building: each code's digest and a word filed under it; then as arrays, below.
        self._block_pairs: tuple[array[int], array[int]] = (array("Q"), array("i"))
        # The words of the code whose digest is block_digests[b] (sorted):
        # block_word_ids[block_starts[b] : block_starts[b + 1]].
        self.block_digests = np.empty(0, dtype=np.uint64)
        self.block_starts = np.zeros(1, dtype=np.int64)
        self.block_word_ids = _NO_FORMS
        # The forms of each trigram code (sorted): those of trigram_codes[g] are
        # trigram_form_ids[trigram_starts[g] : trigram_starts[g + 1]].
        self.trigram_codes = np.empty(0, dtype=np.int64)
        self.trigram_starts = np.zeros(1, dtype=np.int64)
        self.trigram_form_ids = _NO_FORMS
        # While building by workers: each run's trigrams, sorted (``sorted_trigrams``).
        self._trigram_runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.spotting = SpottingKeys()
        # While building: each form's key digests; by workers, each run's
        # sorted, with their forms (``DerivedForms.key_digests``).
        self._key_digests = {layer: array("Q") for layer in LAYERS}
        self._key_runs: dict[Layer, list[tuple[np.ndarray, np.ndarray]]] = {
            layer: [] for layer in LAYERS
        }
        # And by workers, each run's blocks sorted, with their words (``_block_pairs``).
        self._block_runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._latin = bytearray()

    def _add_entities(self, records: list[EntityRecord]) -> None:
        """The serial build: every form derived and filed here, one after another."""
        self._key_maker = FormKeyMaker()
        for number, entity in enumerate(records):
            self._add_entity(entity, number)
        del self._key_maker

    def _finish(self, keys_numbered: KeysListener | None, told: int) -> None:
        """The lookup structures made from what the forms filed (see ``__init__``
        for ``keys_numbered``, told the first ``told`` keys already)."""
        if keys_numbered is not None:
            # Told before anything else is finished: the other process makes
            # their automaton meanwhile.
            if later := self.spotting.numbered_since(told):
                keys_numbered.numbered(later)
            keys_numbered.all_numbered()
        self.spotting.finish()
        if keys_numbered is None:
            self.spotting.make_automaton()
        if len(self._word_users):  # filed by workers
            self.word_entities = self._word_users.tolist()
        self.latin_text = self._latin.decode("ascii")
        self.keys = {layer: FiledKeys.of(*self._sorted_keys(layer)) for layer in LAYERS}
        self._index_trigrams()
        self._flatten_word_forms()
        self._index_blocks()
        del self._key_digests, self._key_runs, self._latin, self._block_pairs, self._block_runs
        del self._word_form_pairs, self._trigram_runs, self._word_users

    def _add_entity(self, entity: EntityRecord, number: int) -> None:
        # The hot loop of a build: a million forms pass here, so lookups are local.
        entity_words: set[int] = set()
        layers = [(self._key_digests[layer], layer) for layer in LAYERS]
        form_entities, form_places = self.form_entities, self.form_places
        form_word_ids, form_word_starts = self.form_word_ids, self.form_word_starts
        word_of_pair, form_of_pair = self._word_form_pairs
        spelling, spotting = self._latin, self.spotting
        for place, text, keys, rule, spot in entity_forms(entity, self._key_maker):
            form_id = len(form_entities)
            form_entities.append(number)
            form_places.append(place)
            for digests, layer in layers:
                digests.append(digest(getattr(keys, layer)))
            spotting.add_form(form_id, text, rule, spot)
            spelling += keys.latin.encode("ascii")
            self.latin_starts.append(len(spelling))
            word_ids = [self._word_id(word) for word in keys.words]
            form_word_ids.extend(word_ids)
            form_word_starts.append(len(form_word_ids))
            for word_id in set(word_ids):
                word_of_pair.append(word_id)
                form_of_pair.append(form_id)
            entity_words.update(word_ids)
        for word_id in entity_words:
            self.word_entities[word_id] += 1

    def _file_derived(self, derived: DerivedForms) -> list[str]:
        """Files forms derived in a worker, as ``_add_entity`` files its own;
        gives the spotting keys it numbered, in number order."""
        first_form = self.form_count
        self.form_entities.frombytes(derived.entity_numbers.tobytes())
        self.form_places.frombytes(derived.places.tobytes())
        for layer, (digests, forms) in derived.key_digests.items():
            self._key_runs[layer].append((digests, forms + first_form))
        numbered = self.spotting.add_derived(derived, first_form)
        self.latin_starts.frombytes((np.cumsum(derived.latin_lengths) + len(self._latin)).tobytes())
        self._latin += derived.latin
        forms = (derived.trigram_forms + first_form).astype(np.int32)
        self._trigram_runs.append((derived.trigram_codes, forms))
        self._file_derived_words(derived, first_form)
        return numbered

    def _file_derived_words(self, derived: DerivedForms, first_form: int) -> None:
        """The words of forms derived in a worker: numbered in the order first met,
        as ``_word_id`` numbers them, and filed with their forms and entities."""
        run_words = derived.words.unpacked()
        vocabulary = self.vocabulary
        run_word_ids = np.array([vocabulary.get(word, -1) for word in run_words], dtype=np.int64)
        # The words new here, numbered in the order first met, filed under their blocks.
        new = run_word_ids < 0
        new_words = [run_words[at] for at in np.flatnonzero(new).tolist()]
        first = len(self.words)
        run_word_ids[new] = np.arange(first, first + len(new_words))
        vocabulary.update(zip(new_words, range(first, first + len(new_words)), strict=True))
        self.words.extend(new_words)
        filed = new[derived.block_words]  # still sorted: a run of the blocks
        owners = run_word_ids[derived.block_words[filed]].astype(np.int32)
        self._block_runs.append((derived.block_digests[filed], owners))
        word_ids = run_word_ids[derived.form_words]
        self.form_word_ids.frombytes(word_ids.astype(np.int32).tobytes())
        word_ends = np.cumsum(derived.form_word_counts) + self.form_word_starts[-1]
        self.form_word_starts.frombytes(word_ends.astype(np.int32).tobytes())
        # Each (word, form) and (word, entity) once: the build's pairs are grouped
        # by word, keeping each word's forms in form order, as they are here.
        owners = np.repeat(np.arange(derived.form_count, dtype=np.int64), derived.form_word_counts)
        form_pairs = distinct(word_ids << 32 | (owners + first_form))
        self._word_form_pairs[0].frombytes((form_pairs >> 32).astype(np.int32).tobytes())
        self._word_form_pairs[1].frombytes((form_pairs & 0xFFFFFFFF).astype(np.int32).tobytes())
        entities = derived.entity_numbers.astype(np.int64)[owners]
        users = np.bincount(distinct(word_ids << 32 | entities) >> 32, minlength=len(self.words))
        users[: len(self._word_users)] += self._word_users
        self._word_users = users

    def _index_trigrams(self) -> None:
        runs = self._trigram_runs or [
            sorted_trigrams(self._latin, np.frombuffer(self.latin_starts, dtype=np.int64))
        ]
        codes, forms = runs[0]
        if len(runs) > 1:
            # Each run sorted, its forms after the last run's: merged by code and
            # form, each code's forms are in form order.
            codes, forms = merged_pairs(runs)
        if not len(codes):
            return
        self.trigram_form_ids = forms
        starts = run_starts(codes)
        self.trigram_codes = codes[starts]
        self.trigram_starts = np.append(starts, len(codes))

    def _flatten_word_forms(self) -> None:
        # One array instead of a list per word: the forms of several words are
        # counted at once (``AliasIndex.candidates``), and it is smaller.
        words, forms = self._word_form_pairs
        self.word_form_starts, order = grouped(words, len(self.words))
        self.word_form_ids = np.frombuffer(forms, dtype=np.int32)[order]

    def _sorted_keys(self, layer: Layer) -> tuple[np.ndarray, np.ndarray]:
        """The layer's key digests, sorted, and their forms: a key's in form order."""
        digests = np.frombuffer(self._key_digests[layer], dtype=np.uint64)
        return merged_runs(self._key_runs[layer] or [stably_sorted(digests)])

    def _index_blocks(self) -> None:
        # Stable: the words of a code stay in the order they were filed.
        digests, self.block_word_ids = merged_runs(self._block_runs or [self._sorted_blocks()])
        if len(digests):
            starts = run_starts(digests)
            self.block_digests = digests[starts]
            self.block_starts = np.append(starts, len(digests))

    def _sorted_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        """The blocks filed by the serial build, sorted, and their words."""
        digests, filed_at = stably_sorted(np.frombuffer(self._block_pairs[0], dtype=np.uint64))
        return digests, np.frombuffer(self._block_pairs[1], dtype=np.int32)[filed_at]

    # Pickled without the vocabulary, made again from the words in a fraction
    # of the time it unpickles in.
    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "vocabulary"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.vocabulary = dict(zip(self.words, range(len(self.words)), strict=True))

    @property
    def form_count(self) -> int:
        return len(self.form_entities)

    def posting(self, form_id: int) -> Posting:
        """The form's entity and text."""
        number = self.form_entities[form_id]
        return Posting(
            self.entities.id_of(number), self.entities.text(number, self.form_places[form_id])
        )

    def entity_id(self, form_id: int) -> str:
        return self.entities.id_of(self.form_entities[form_id])

    def normal_form(self, form_id: int) -> str:
        """The form's normal form, which is its exact key."""
        return normalize(self.posting(form_id).text)

    def spelling(self, form_id: int) -> str:
        """The form's Latin spelling."""
        return self.latin_text[self.latin_starts[form_id] : self.latin_starts[form_id + 1]]

    def spellings(self, form_ids: list[int]) -> list[str]:
        """The Latin spellings of ``form_ids``."""
        text, starts = self.latin_text, self.latin_starts
        return [text[starts[f] : starts[f + 1]] for f in form_ids]

    def form_words(self, form_id: int) -> tuple[str, ...]:
        """The form's transliterated content words."""
        start, end = self.form_word_starts[form_id], self.form_word_starts[form_id + 1]
        return tuple(map(self.words.__getitem__, self.form_word_ids[start:end]))

    def form_prominences(self) -> np.ndarray:
        """Each form's entity's prominence; -1 where the entity has none."""
        known = self.entities.prominences()
        of_entities = np.where(np.isnan(known) | (known == 0), -1.0, known)
        return of_entities[np.frombuffer(self.form_entities, dtype=np.int32)]

    def block(self, code: str) -> tuple[int, ...]:
        """The words filed under a phonetic code (or a code one letter shorter)."""
        return self.blocks_of([code])[0]

    def blocks_of(self, codes: list[str]) -> list[tuple[int, ...]]:
        """The words filed under each of ``codes``, searched for all at once."""
        filed = self.block_digests
        if not len(filed):
            return [() for _ in codes]
        digests = np.fromiter(map(digest, codes), dtype=np.uint64, count=len(codes))
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

    def spelt_near(self, query_grams: Iterable[str], bands: list[int]) -> np.ndarray:
        """The forms of a length in ``bands`` that share the most of the query's
        trigrams, rarest first.

        Trigrams are taken from the rarest until their forms would pass
        MAX_TRIGRAM_POSTINGS; the TRIGRAM_CANDIDATES forms that have the most
        of those are returned, in no order.
        """
        filed = self.trigram_codes
        if not len(filed):
            return _NO_FORMS
        codes = _query_trigram_codes(query_grams, bands)
        found = np.minimum(np.searchsorted(filed, codes), len(filed) - 1)
        numbers = found[filed[found] == codes]
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
        ordered = sorted_form_ids(np.concatenate(chosen))
        starts = run_starts(ordered)
        form_ids = ordered[starts]
        if len(form_ids) > TRIGRAM_CANDIDATES:
            votes = run_lengths(starts, len(ordered))
            form_ids = form_ids[np.argpartition(-votes, TRIGRAM_CANDIDATES)[:TRIGRAM_CANDIDATES]]
        return form_ids

    def _word_id(self, word: str) -> int:
        word_id = self.vocabulary.get(word)
        if word_id is None:
            word_id = self._new_word(word, word_block_digests(word))
        return word_id

    def _new_word(self, word: str, block_digests: Iterable[int]) -> int:
        """Numbers a word not in the vocabulary, filed under its phonetic blocks."""
        word_id = len(self.words)
        self.vocabulary[word] = word_id
        self.words.append(word)
        self.word_entities.append(0)
        digests, words = self._block_pairs
        for block in block_digests:
            digests.append(block)
            words.append(word_id)
        return word_id

    def lookup(self, layer: Layer, key: str) -> tuple[int, ...]:
        """The forms whose ``layer`` key is ``key``.

        Keys are filed by digest: at the exact and compact layers, whose hits
        are matches, each form found is checked against the key itself (its
        normal form is made again), so that two keys sharing a digest can
        never make a match. The other layers' hits are scored before they count.
        """
        found = self.keys[layer].forms(key)
        if found and layer in _CHECKED_LAYERS:
            spaces = " " if layer == "exact" else ""
            found = tuple(f for f in found if self.normal_form(f).replace(" ", spaces) == key)
        return found

    def similar_words(self, word: str) -> tuple[int, ...]:
        """The words that ``word_similarity`` credits: alike in spelling or sound.

        Phonetic blocks (one typo allowed) propose them, and the scorer's own
        similarity keeps only those it would count, so no candidate comes in
        that could not score. Names share their words (San, Santa, Xian), so
        a snapshot keeps the answer (``SnapshotCaches.similar_words``).
        """
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

    def postings_of(self, forms: FormIds) -> list[Posting]:
        return [self.posting(f) for f in form_ids(forms)]

    def without_entities(self, forms: FormIds, entity_ids: frozenset[str]) -> tuple[int, ...]:
        """The forms that belong to none of ``entity_ids``."""
        return tuple(f for f in form_ids(forms) if self.entity_id(f) not in entity_ids)

    def ref(self, form_id: int) -> FormRef:
        return FormRef(self.posting(form_id), self.form_words(form_id), self.spelling(form_id))


def _runs_by_workers(records: list[EntityRecord], workers: int) -> WorkerRuns | None:
    """What ``records``' forms derive, run after run, by ``workers`` processes
    forked now; None if the system refused to fork them."""
    try:
        return derived_in_workers(records, workers)
    except WorkerFailed as error:
        _building_on_one_core(error)
        return None


def _building_on_one_core(error: WorkerFailed) -> None:
    log.warning("index build: a worker failed (%s); building on one core", error)


EMPTY_SEGMENT = Segment(())


@dataclass(frozen=True, slots=True, weakref_slot=True)
class AliasIndex:
    """An immutable snapshot: a base segment, minus hidden IDs, plus an overlay."""

    base: Segment = EMPTY_SEGMENT
    overlay: Segment = EMPTY_SEGMENT
    # Entities of the base that were edited or deleted since it was built.
    hidden: frozenset[str] = field(default_factory=frozenset)
    # The types the table declares (as written there); empty when types are free words.
    declared_types: tuple[str, ...] = ()
    # What this snapshot derives from itself while it serves, dropped with it.
    caches: SnapshotCaches = field(default_factory=SnapshotCaches, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        entities: Iterable[EntityRecord],
        *,
        workers: int = 1,
        keys_numbered: KeysListener | None = None,
    ) -> "AliasIndex":
        """A snapshot of ``entities``, a large table's forms derived by ``workers``
        processes (see ``Segment`` for ``keys_numbered``)."""
        return cls(base=Segment(entities, workers=workers, keys_numbered=keys_numbered))

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
        return replace(self, declared_types=declared, caches=SnapshotCaches())

    def types_in_use(self) -> frozenset[str]:
        """The types that the snapshot's entities have."""
        caches = self.caches
        if caches.types_in_use is None:
            caches.types_in_use = self._count_types()
        return caches.types_in_use

    def _count_types(self) -> frozenset[str]:
        counts = self.base.type_counts.copy()
        counts.subtract(self.base.entities[i].type for i in self.hidden)
        counts.update(self.overlay.type_counts)
        return frozenset(kind for kind, count in counts.items() if count > 0)

    def known_types(self) -> dict[str, str]:
        """The declared types and those in use, by their case-folded name."""
        caches = self.caches
        if caches.known_types is None:
            caches.known_types = self._known_types()
        return caches.known_types

    def _known_types(self) -> dict[str, str]:
        known = {kind.casefold(): kind for kind in sorted(self.types_in_use())}
        known.update((kind.casefold(), kind) for kind in self.declared_types)
        return known

    def entity(self, entity_id: str) -> EntityRecord | None:
        overlay = self.overlay
        found = None if overlay is EMPTY_SEGMENT else overlay.entities.get(entity_id)
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
        # Most keys asked for (composition tries every span) are nobody's:
        # their digest alone answers.
        if not self.has_key(layer, key):
            return []
        return [segment.posting(f) for segment, f in self._found(layer, key)]

    def lookup_refs(
        self, layer: Layer, key: str, closest_to: str = "", limit: int | None = None
    ) -> list[FormRef]:
        """As ``lookup``, with each form's transliterated words. Of more than
        ``limit`` forms, the ``limit`` whose Latin spelling is closest to
        ``closest_to`` (rapidfuzz's ratio), closest first: chosen by spelling
        before the others' refs are made."""
        found = list(self._found(layer, key))
        if limit is not None and len(found) > limit:
            spellings = [segment.spelling(f) for segment, f in found]
            closest = process.extract(closest_to, spellings, scorer=fuzz.ratio, limit=limit)
            found = [found[i] for _, _, i in closest]
        return [segment.ref(f) for segment, f in found]

    def has_key(self, layer: Layer, key: str) -> bool:
        """Whether any form has this key (hidden entities of the base included)."""
        # Asked before every lookup and for words' penalties: no generator.
        if key in self.base.keys[layer]:
            return True
        return bool(self.overlay.form_count) and key in self.overlay.keys[layer]

    def _found(self, layer: Layer, key: str) -> Iterator[tuple[Segment, int]]:
        """The visible forms whose ``layer`` key is ``key``, each with its segment."""
        for segment in self._segments():
            for form_id in segment.lookup(layer, key):
                if self._visible(segment, form_id):
                    yield segment, form_id

    def _segments(self) -> Iterator[Segment]:
        yield self.base
        if self.overlay.form_count:
            yield self.overlay

    def spotting_segments(self) -> Iterator[tuple[Segment, frozenset[str]]]:
        """Each segment with the entity IDs whose forms in it no longer count."""
        yield self.base, self.hidden
        if self.overlay.form_count:
            yield self.overlay, frozenset()

    def _visible(self, segment: Segment, form_id: int) -> bool:
        """Whether the form counts: none of the base's edited entities does."""
        hidden = self.hidden
        return not hidden or segment is self.overlay or segment.entity_id(form_id) not in hidden

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
                for word_id in self._similar_words(segment, word)
                if len(forms := segment.forms_of_word(word_id)) <= MAX_WORD_POSTINGS
            ]
            filtered = self._filters(segment, keep)
            ranked = most_common(proposed, None if filtered else limit)
            kept = (f for f in ranked if self._kept(segment, f, keep))
            found.extend(segment.ref(f) for f in islice(kept, limit))
        return found

    def _similar_words(self, segment: Segment, word: str) -> tuple[int, ...]:
        """``segment.similar_words(word)``, kept with the snapshot."""
        return self.caches.similar_words.remembered((segment is self.base, word), self._alike_words)

    def _alike_words(self, key: tuple[bool, str]) -> tuple[int, ...]:
        in_base, word = key
        return (self.base if in_base else self.overlay).similar_words(word)

    def _filters(self, segment: Segment, keep: "Keep | None") -> bool:
        """Whether some forms of ``segment`` are not ``_kept``: a caller's filter,
        or entities of the base edited since it was built."""
        return keep is not None or (segment is self.base and bool(self.hidden))

    def _kept(self, segment: Segment, form_id: int, keep: "Keep | None") -> bool:
        return self._visible(segment, form_id) and (keep is None or keep(segment.posting(form_id)))

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
            spellings = segment.spellings(ids)
            for scorer in scorers:
                found.extend(
                    (similarity, ids[i], segment)
                    for _, similarity, i in process.extract(
                        latin, spellings, scorer=scorer, score_cutoff=cutoff * 100, limit=limit
                    )
                )
        found.sort(key=lambda pair: -pair[0])
        # A form found by both scorers counts once. Forms kept (filtered before
        # they were spelt) are distinct postings: a base form of an entity in
        # the overlay is hidden.
        refs: dict[tuple[bool, int], FormRef] = {}
        for _, form_id, segment in found:
            key = (segment is self.base, form_id)
            if key not in refs:
                refs[key] = segment.ref(form_id)
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

"""What a snapshot learns while it serves: every cache of it, in one place, bounded by memory.

An index snapshot never changes, so what is derived from it (a word's
weight, a name's resolution, the fields of an answer) may be kept as long as
the snapshot serves. ``SnapshotCaches`` holds all of it, one named field per
kind; a snapshot makes a new one (``AliasIndex`` built, changed, given its
declared types, or read back from a file) and drops its own with itself, so
what a swap drops is this object and nothing else.

Each cache is a ``MemoryCache``: the oldest entries go first once the
estimated bytes of its keys and values reach its share of
``SNAPSHOT_CACHE_BYTES``. The estimate (``approximate_size``) is
``sys.getsizeof`` of the key and the value and of what they hold, a few levels
deep, plus the bookkeeping of one entry; objects shared between entries are
counted in each, so the bound errs on the safe side.

Three caches live with a segment rather than a snapshot, because a segment
(the base) is shared by every snapshot built on it and what they hold is
its own: the records made from its entity table (``RECORD_CACHE_BYTES``),
the best places of the long runs of its completions
(``COMPLETION_HEAD_BYTES``), and the forms that a writing of a spotting key
may be a mention of (``WRITINGS_CACHE_BYTES``).

Pure functions of a word, shared by the whole process
(``keys.transliterate_word`` and ``keys.phonetic_word``, the spot form's
folding of runs of non-ASCII characters, ``scoring.word_similarity`` of two
words, ``normalize.fold_char`` of one character) keep ``functools.lru_cache``
rather than a ``MemoryCache``: it is several times faster on a hit, which
counts on paths run for every word of every query and text, and an answer
does not depend on the snapshot. They stay small because what they hold is
bounded in length as well as in number: ``short_words_remembered`` keeps at
most ``REMEMBERED_SHORT_WORDS`` words of at most ``LONGEST_REMEMBERED_WORD``
characters (a longer word is worked out each time), and
``short_texts_remembered`` names of at most ``LONGEST_REMEMBERED_NAME``;
``fold_char`` holds single characters.
"""

import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from functools import lru_cache, wraps
from itertools import islice
from sys import getsizeof
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cachetools import Cache

if TYPE_CHECKING:
    from app.matching.annotation.dictionary import HitKey
    from app.matching.completion import SnapshotCompletions
    from app.matching.composition import ExchangeableForm
    from app.matching.resolve import Candidate, Resolution
    from app.matching.scoring import WordPenalties

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")

_ABSENT = object()
MIB = 1 << 20
# The estimated bytes that one snapshot's caches hold at most, together. A
# worker serves one snapshot at a time, and briefly two while a swap waits
# for the requests still reading the old one.
SNAPSHOT_CACHE_BYTES = 48 * MIB
# Each cache's share of it, in parts of SNAPSHOT_CACHE_BYTES.
SHARES = {
    "answers": 6,  # the fields of a mention's answer, by resolution
    "dictionary_hits": 8,  # annotation: resolutions of the names spotted in a text
    "runs": 8,  # annotation: candidates of capitalised runs
    "form_words": 2,  # annotation: the words of an entity's forms
    "exchangeable_forms": 3,  # composition: an entity's forms no other entity has
    "similar_words": 5,  # the words alike to a word of a query, by segment
    "weights": 3,  # word weights and penalties
    "names": 1,
    "mention_penalties": 1,
    "form_penalties": 1,
}
RECORD_CACHE_BYTES = 8 * MIB  # records made from a segment's entity table
COMPLETION_HEAD_BYTES = 4 * MIB  # the best places of a segment's long runs of completions
WRITINGS_CACHE_BYTES = 4 * MIB  # the forms a writing of a spotting key may mention
# A cache's own bookkeeping for one entry: its slots in the dictionary of
# entries and in the table of their sizes.
ENTRY_OVERHEAD = 150
NUMBER_BYTES = 28  # what getsizeof tells of a float (24) or a bool (28)
# The process-wide caches of pure functions of a word (see the module's notes).
REMEMBERED_SHORT_WORDS = 1 << 14
LONGEST_REMEMBERED_WORD = 32
# ...and of the names written in a text (runs of words, aliases).
LONGEST_REMEMBERED_NAME = 128
# What ``approximate_size`` counts by ``getsizeof`` alone, and what it looks into.
_FLAT = frozenset((str, bytes, int, float, bool, type(None)))
_SEQUENCES = frozenset((tuple, list, set, frozenset))
# The part of a full cache whose oldest keys are gathered at once, to be let go.
OLDEST_GATHERED = 8  # one eighth
# How deep ``approximate_size`` looks into containers and records.
SIZE_DEPTH = 6  # down to the aliases of the records in a resolution's candidates


def approximate_size(value: object, depth: int = SIZE_DEPTH) -> int:
    """The bytes ``value`` takes, with what it holds down to ``depth`` levels."""
    size = getsizeof(value)
    kind = type(value)
    if depth == 0 or kind in _FLAT:
        return size
    if kind in _SEQUENCES:
        return size + _held_size(value, depth - 1)  # type: ignore[arg-type]
    if kind is dict:
        held = value.items()  # type: ignore[attr-defined]
        return size + sum(_held_size(pair, depth - 1) for pair in held)
    if is_dataclass(kind):
        return size + _held_size([getattr(value, n) for n in _field_names(kind)], depth - 1)
    return size


def _held_size(items: Iterable[object], depth: int) -> int:
    """The bytes of ``items`` and of what they hold."""
    return sum(
        getsizeof(item) if type(item) in _FLAT else approximate_size(item, depth) for item in items
    )


def entry_size(key: object, value: object) -> int:
    """The estimated bytes of a cache entry: its key, its value, its bookkeeping."""
    return ENTRY_OVERHEAD + approximate_size(key) + approximate_size(value)


@lru_cache(maxsize=256)
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


class MemoryCache(Cache[K, V], Generic[K, V]):
    """A cache bounded by the estimated bytes of its entries; the first kept go
    first (``cachetools.Cache`` lets go of entries in the order of its
    dictionary, the order they were kept in).

    Not least recently used first: keeping the order of use costs a call in
    Python on every hit, and these caches are asked on paths run for every
    candidate of every query, where a hit must cost no more than a look-up.
    ``remembered`` is the way in for callers: safe from several threads (the
    service runs synchronous routes in a thread pool; an entry let go while
    it is read is made again), and a value larger than the whole budget is
    returned without being kept.

    The oldest keys are gathered an eighth of the cache at a time. Finding
    the first key of a dictionary walks past the slots of every key deleted
    before it, until the dictionary is next resized; looked for once per
    entry let go, that walk made a miss cost 10 to 50 microseconds in a full
    cache of 17,000 to 45,000 entries, against 2 with the keys gathered.
    """

    def __init__(self, budget: int, size_of: "Callable[[K, V], int] | None" = None) -> None:
        super().__init__(maxsize=budget)
        # What an entry costs: the generic estimate, or one that knows its kind.
        self._size_of: Callable[[K, V], int] = size_of or entry_size
        self._lock = threading.Lock()
        self._entry_bytes = 0
        # The cache's own dictionary of entries, read directly by ``remembered``
        # (the name is cachetools' own, which is why pyproject keeps it below 9).
        self._entries: dict[K, V] = vars(self)["_Cache__data"]
        # The oldest keys, next to be let go: one deleted since is passed over,
        # one deleted and kept again goes a little early.
        self._oldest: deque[K] = deque()

    def remembered(self, key: K, make: Callable[[K], V]) -> V:
        """The value kept under ``key``; else ``make(key)``, kept."""
        found = self._entries.get(key, _ABSENT)
        if found is not _ABSENT:
            return found  # type: ignore[return-value]
        value = make(key)
        with self._lock:
            self._entry_bytes = self._size_of(key, value)
            if self._entry_bytes <= self.maxsize:  # else alone over the budget: not kept
                Cache.__setitem__(self, key, value)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._entry_bytes = self._size_of(key, value)
            Cache.__setitem__(self, key, value)

    def popitem(self) -> tuple[K, V]:
        """Let go of the oldest entry (``Cache.__setitem__`` calls this, under
        the lock, until the new entry fits)."""
        entries, oldest = self._entries, self._oldest
        while True:
            if not oldest:
                if not entries:
                    raise KeyError(f"{type(self).__name__} is empty")
                oldest.extend(islice(entries, max(1, len(entries) // OLDEST_GATHERED)))
            key = oldest.popleft()
            if key in entries:
                value = entries[key]
                del self[key]
                return key, value

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._oldest.clear()

    def getsizeof(self, value: V) -> int:  # type: ignore[override]  # a method, see below
        """The estimated bytes of the entry being kept (under the lock): its key,
        its value and its bookkeeping, worked out by ``remembered`` or
        ``__setitem__``, which know its key. A method of the class, not a
        function given to ``Cache``: kept on the instance, it would make each
        cache a cycle that only the garbage collector's rounds free."""
        return self._entry_bytes


def _share(name: str) -> int:
    return SNAPSHOT_CACHE_BYTES * SHARES[name] // sum(SHARES.values())


def _sized(
    name: str, size_of: Callable[[Any, Any], int] | None = None
) -> Callable[[], "MemoryCache[Any, Any]"]:
    """What makes the cache ``name``: a new ``MemoryCache`` with its share."""
    return lambda: MemoryCache(_share(name), size_of)


def word_entry_size(word: str, value: float | bool) -> int:
    """What ``entry_size`` gives for a word and its number, from the word alone."""
    return ENTRY_OVERHEAD + getsizeof(word) + NUMBER_BYTES


# The keys of the annotation caches: a types filter (case-folded, None for
# any) and the thresholds asked for (``resolve.Thresholds``).
TypesFilter = frozenset[str] | None


@dataclass(eq=False, slots=True)
class SnapshotCaches:
    """Everything one snapshot has derived from itself and keeps while it serves."""

    # Values made once per snapshot, when first asked for.
    types_in_use: frozenset[str] | None = None
    known_types: dict[str, str] | None = None
    word_penalties: "WordPenalties | None" = None
    completions: "SnapshotCompletions | None" = None
    # The fields of a mention's answer, by (its resolution's identity, method,
    # candidates shown), beside the resolution that the identity is of.
    answers: "MemoryCache[tuple[int, str, int], tuple[Resolution, dict[str, Any]]]" = field(
        default_factory=_sized("answers")
    )
    # Annotation: a spotted name's resolution, by ``HitKey`` (types, thresholds,
    # segment, forms, text).
    dictionary_hits: "MemoryCache[HitKey, Resolution | None]" = field(
        default_factory=_sized("dictionary_hits")
    )
    # Annotation: a capitalised run's candidates, by (run as written, types).
    runs: "MemoryCache[tuple[str, TypesFilter], list[Candidate]]" = field(
        default_factory=_sized("runs")
    )
    # Annotation: the words of an entity's forms in their normal form, by entity id.
    form_words: MemoryCache[str, frozenset[str]] = field(default_factory=_sized("form_words"))
    # Composition: an entity's first forms that no other entity has, by entity id.
    exchangeable_forms: "MemoryCache[str, tuple[ExchangeableForm, ...]]" = field(
        default_factory=_sized("exchangeable_forms")
    )
    # The words a word of a query is alike to, by (whether in the base segment, word).
    similar_words: MemoryCache[tuple[bool, str], tuple[int, ...]] = field(
        default_factory=_sized("similar_words")
    )
    # Scoring (``scoring.WordPenalties``), by word.
    weights: MemoryCache[str, float] = field(default_factory=_sized("weights", word_entry_size))
    names: MemoryCache[str, bool] = field(default_factory=_sized("names", word_entry_size))
    mention_penalties: MemoryCache[str, float] = field(
        default_factory=_sized("mention_penalties", word_entry_size)
    )
    form_penalties: MemoryCache[str, float] = field(
        default_factory=_sized("form_penalties", word_entry_size)
    )

    def __reduce__(self) -> tuple[type["SnapshotCaches"], tuple[()]]:
        # A snapshot sent to another process (or written) goes without its caches.
        return (SnapshotCaches, ())

    def bounded(self) -> dict[str, "MemoryCache[Any, Any]"]:
        """The caches bounded by memory, by name."""
        return {name: getattr(self, name) for name in SHARES}

    def estimated_bytes(self) -> int:
        """What the bounded caches hold, by their own estimate."""
        return int(sum(cache.currsize for cache in self.bounded().values()))


def segment_cache(
    budget: int, size_of: Callable[[Any, Any], int] | None = None
) -> MemoryCache[Any, Any]:
    """A cache that lives with a segment (see the module's notes)."""
    return MemoryCache(budget, size_of)


def short_words_remembered(compute: Callable[[str], R]) -> Callable[[str], R]:
    """``compute``, its answers for the latest short words kept for the whole
    process; see the module's notes."""
    return short_texts_remembered(LONGEST_REMEMBERED_WORD)(compute)


def short_texts_remembered(longest: int) -> Callable[[Callable[[str], R]], Callable[[str], R]]:
    """Keep ``compute``'s answers for the latest texts of at most ``longest``
    characters, for the whole process; a longer text is worked on each time."""

    def decorate(compute: Callable[[str], R]) -> Callable[[str], R]:
        remembered = lru_cache(maxsize=REMEMBERED_SHORT_WORDS)(compute)

        @wraps(compute)
        def computed(text: str) -> R:
            if len(text) > longest:
                return compute(text)
            return remembered(text)

        computed.cache_clear = remembered.cache_clear  # type: ignore[attr-defined]
        return computed

    return decorate

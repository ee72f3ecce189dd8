"""Completing names as they are typed: the engine of the suggest service.

A prefix is normalised as mentions are (``app.matching.normalize``), so case,
diacritics and punctuation do not matter, and completes a name or an alias
either from its start (``Isla`` → ``Islamabad``) or from the start of one of
its words (``Khor`` → ``Islamic State – Khorasan Province``).

Each segment keeps, once asked, every word start of every form's normal form
in one sorted order (``SegmentCompletions``): the forms a prefix completes are
one contiguous run of it, found by bisection. Each position also has its
place in the order of preference (whole forms before word starts, then by
prominence, then shorter forms), so the best of a run of any length are found
by a partial sort of their places (``numpy.argpartition``), never by scoring
every form. Only the few forms kept are looked at in Python.

The base segment's order lives as long as the segment (it is built once, on
first use, and shared by the snapshots built on it); a snapshot's overlay is
small and gets its own order with the snapshot (``SnapshotCaches.completions``).
"""

import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from app.matching.caches import COMPLETION_HEAD_BYTES, MemoryCache, segment_cache
from app.matching.index import AliasIndex, EntityRecord, Segment
from app.matching.normalize import fold_char, normalize

# Word starts of one form that are filed: a long alias is a sentence, and
# completing its fortieth word is no one's wish.
MAX_WORD_STARTS = 16
# The highest code point: a key that sorts after every string with a prefix.
_LAST = "\U0010ffff"
# How many more positions than wanted are taken from a run at first: some are
# other forms of an entity already kept, of hidden entities or of other types.
_OVERSHOOT = 4
# The lowest code point: every longer string with a prefix sorts at or after
# the prefix followed by it, so it bounds the entries that are the prefix itself.
_FIRST = "\x00"
# A run longer than this (a prefix of a letter or two) has its best entries
# remembered: finding them again would cost milliseconds each time. Runs this
# long are few (they do not overlap within a length of prefix); a bound in
# memory (``caches.COMPLETION_HEAD_BYTES``) keeps them few whatever the table.
LONG_RUN = 20_000
LONG_RUN_HEAD = 512


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An entity whose name or alias ``form`` starts with what was typed."""

    entity: EntityRecord
    form: str
    # 0: the whole form is what was typed; 1: it starts with it; 2: a word of it does.
    tier: int
    # Its entry's place in its segment's order of preference.
    place: int
    normal_length: int

    def order(self) -> tuple[int, int, float, int, int]:
        """Best first: the tier, then the more prominent, then the shorter form
        (as a segment orders its entries, so that its best are the best)."""
        prominence = self.entity.prominence
        absent = 1 if prominence is None else 0
        return (self.tier, absent, -(prominence or 0.0), self.normal_length, self.place)


def typed_prefix(text: str) -> str:
    """The normal form of what was typed; a trailing separator ("New ") is kept,
    so that only forms with a word after it complete it."""
    prefix = normalize(text)
    if prefix and text and fold_char(text[-1]) == " ":
        prefix += " "
    return prefix


class SegmentCompletions:
    """Every word start of a segment's forms, sorted, with their preference."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self.normal_forms = _normal_forms(segment)
        forms, offsets, suffixes = _word_starts(self.normal_forms)
        order = np.fromiter(sorted(range(len(suffixes)), key=suffixes.__getitem__), dtype=np.int64)
        del suffixes
        self.entry_forms = np.asarray(forms, dtype=np.int32)[order]
        self.entry_offsets = np.asarray(offsets, dtype=np.int32)[order]
        self.entry_places = self._places()
        self._long_run_heads: MemoryCache[str, np.ndarray] = segment_cache(COMPLETION_HEAD_BYTES)

    def _places(self) -> np.ndarray:
        """Each entry's place in the order of preference (0 is the best)."""
        form_prominence = self.segment.form_prominences()
        form_lengths = np.fromiter(map(len, self.normal_forms), dtype=np.int32)
        forms = self.entry_forms
        # np.lexsort sorts by its last key first.
        ranking = np.lexsort(
            (forms, form_lengths[forms], -form_prominence[forms], self.entry_offsets > 0)
        )
        places = np.empty(len(ranking), dtype=np.int32)
        places[ranking] = np.arange(len(ranking), dtype=np.int32)
        return places

    def __len__(self) -> int:
        return len(self.entry_forms)

    def _suffix(self, entry: int) -> str:
        offset = int(self.entry_offsets[entry])
        return self.normal_forms[self.entry_forms[entry]][offset:]

    def _bisect(self, key: str) -> int:
        """The first entry whose suffix is not below ``key``."""
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if self._suffix(middle) < key:
                low = middle + 1
            else:
                high = middle
        return low

    def completing(self, prefix: str) -> tuple[int, int]:
        """The run of entries whose suffix starts with ``prefix``."""
        return self._bisect(prefix), self._bisect(prefix + _LAST)

    def best(
        self, prefix: str, count: int, keep: Callable[[EntityRecord], bool]
    ) -> Iterator[Suggestion]:
        """Forms completing ``prefix`` best first, at most one per entity, for
        the entities ``keep`` keeps; enough for ``count`` entities, if there are."""
        seen: set[str] = set()  # suggested, or not kept
        suggested = 0
        entities, form_entities = self.segment.entities, self.segment.form_entities
        for entry in self._entries(prefix, count):
            # By its ID first: an entity's record is made once, however many of
            # its forms complete the prefix (10,000 long aliases took 36 s).
            entity_id = entities.id_of(form_entities[int(self.entry_forms[entry])])
            if entity_id in seen:
                continue
            seen.add(entity_id)
            suggestion = self._suggestion(entry, prefix)
            if keep(suggestion.entity):
                yield suggestion
                suggested += 1
                if suggested == count:
                    return

    def _entries(self, prefix: str, count: int) -> Iterator[int]:
        """The entries completing ``prefix``: first the forms that are exactly
        it, then all of them, each by preference; the rest taken a few more at
        a time than ``count``."""
        low, high = self.completing(prefix)
        yield from self._whole_forms_equal_to(prefix, low)
        taken, wanted = 0, count * _OVERSHOOT
        if high - low > LONG_RUN:
            head = self._long_run_heads.remembered(
                prefix, lambda _: self._best_places(low, high, 0, LONG_RUN_HEAD)
            )
            yield from head.tolist()
            taken, wanted = len(head), LONG_RUN_HEAD * _OVERSHOOT
        while taken < high - low:
            chosen = self._best_places(low, high, taken, wanted)
            yield from chosen.tolist()
            taken += len(chosen)
            wanted *= _OVERSHOOT

    def _whole_forms_equal_to(self, prefix: str, low: int) -> list[int]:
        """The entries of whole forms that are exactly ``prefix`` (namesakes),
        in the order of preference: they head the run from ``low``, among the
        word starts equal to it, in the order the forms were added."""
        equal_end = self._bisect(prefix + _FIRST)
        offsets = self.entry_offsets[low:equal_end]
        whole = np.flatnonzero(offsets == 0) + low
        return whole[np.argsort(self.entry_places[whole], kind="stable")].tolist()

    def _best_places(self, low: int, high: int, skip: int, wanted: int) -> np.ndarray:
        """Entries of ``low:high``, best first, from the ``skip``-th to the ``wanted``-th."""
        places = self.entry_places[low:high]
        if wanted < len(places):
            top = np.argpartition(places, wanted)[:wanted]
        else:
            top = np.arange(len(places))
        ordered = top[np.argsort(places[top])]
        return ordered[skip:] + low

    def _suggestion(self, entry: int, prefix: str) -> Suggestion:
        form_id = int(self.entry_forms[entry])
        posting = self.segment.posting(form_id)
        normal = self.normal_forms[form_id]
        tier = 2 if self.entry_offsets[entry] > 0 else (0 if normal == prefix else 1)
        entity = self.segment.entities[posting.entity_id]
        return Suggestion(entity, posting.text, tier, int(self.entry_places[entry]), len(normal))


def _normal_forms(segment: Segment) -> list[str]:
    """Each form's normal form (its exact key), by form id."""
    return [segment.normal_form(form_id) for form_id in range(segment.form_count)]


def _word_starts(normal_forms: list[str]) -> tuple[list[int], list[int], list[str]]:
    """Each form's word starts: (form ids, offsets, the forms from there on)."""
    forms: list[int] = []
    offsets: list[int] = []
    suffixes: list[str] = []
    add_form, add_offset, add_suffix = forms.append, offsets.append, suffixes.append
    for form_id, normal in enumerate(normal_forms):
        add_form(form_id)
        add_offset(0)
        add_suffix(normal)
        if " " not in normal:  # most names are one word
            continue
        offset = normal.find(" ") + 1
        for _ in range(MAX_WORD_STARTS - 1):
            add_form(form_id)
            add_offset(offset)
            add_suffix(normal[offset:])
            space = normal.find(" ", offset)
            if space < 0:
                break
            offset = space + 1
    return forms, offsets, suffixes


_BASES: "weakref.WeakKeyDictionary[Segment, SegmentCompletions]" = weakref.WeakKeyDictionary()
_BUILDING = threading.Lock()


def _of_base(segment: Segment) -> SegmentCompletions:
    """The completions of a base segment, built once however many ask at once."""
    found = _BASES.get(segment)
    if found is None:
        with _BUILDING:
            found = _BASES.get(segment)
            if found is None:
                found = _BASES[segment] = SegmentCompletions(segment)
    return found


@dataclass(frozen=True)
class SnapshotCompletions:
    base: SegmentCompletions
    overlay: SegmentCompletions
    hidden: frozenset[str]


def ready(index: AliasIndex) -> bool:
    """Whether the completions of this snapshot are built: until they are, the
    first suggestion takes as long as building them (seconds for a large table)."""
    return index.caches.completions is not None


def completions(index: AliasIndex) -> SnapshotCompletions:
    """The completions of a snapshot: its base's, shared, and its overlay's."""
    caches = index.caches
    if caches.completions is None:
        caches.completions = SnapshotCompletions(
            _of_base(index.base), SegmentCompletions(index.overlay), index.hidden
        )
    return caches.completions


def suggest(
    index: AliasIndex,
    text: str,
    *,
    limit: int = 10,
    types: frozenset[str] | None = None,
) -> list[Suggestion]:
    """The entities whose name or an alias completes ``text``, best first,
    one per entity; only of ``types`` (case-folded) when given."""
    prefix = typed_prefix(text)
    if not prefix or limit < 1:
        return []
    found = completions(index)

    def of_type(entity: EntityRecord) -> bool:
        return types is None or entity.type.casefold() in types

    def visible_of_type(entity: EntityRecord) -> bool:
        return entity.id not in found.hidden and of_type(entity)

    best: dict[str, Suggestion] = {}
    for segment, keep in ((found.base, visible_of_type), (found.overlay, of_type)):
        for suggestion in segment.best(prefix, limit, keep):
            known = best.get(suggestion.entity.id)
            if known is None or suggestion.order() < known.order():
                best[suggestion.entity.id] = suggestion
    return sorted(best.values(), key=Suggestion.order)[:limit]

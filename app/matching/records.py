"""The entities a segment knows, kept packed: each ``EntityRecord`` is made when asked for.

A million aliases are a quarter of a million records, and as Python objects
(a string per alias, a tuple per entity) they cost about 185 MiB. Here every
text is in one UTF-8 blob, and the rest in arrays: the
type as a number into the few type names, the prominence as a float (NaN for
none); the few descriptions and editors' case rules in dictionaries. Ids stay
strings, with a dictionary of their numbers: entities are looked up by id
for every candidate of every query.
"""

import math
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

import numpy as np

from app.matching.caches import ENTRY_OVERHEAD, RECORD_CACHE_BYTES, MemoryCache, segment_cache

T = TypeVar("T")


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


# What a made record costs beyond the characters of its texts: the record and
# its tuples, its id, type and prominence (RECORD_BYTES); each text's string
# object and its place in a tuple (TEXT_BYTES). Characters are counted at two
# bytes, as Python keeps a text with any character beyond Latin-1.
RECORD_BYTES = 400
TEXT_BYTES = 64


def record_entry_size(entity_id: str, record: EntityRecord) -> int:
    """The estimated bytes of a record kept under its id: ``caches.entry_size``,
    worked out from the lengths of its texts alone, as records are made for
    every candidate of a query."""
    texts = [entity_id, record.name, *record.aliases]
    if record.description:
        texts.append(record.description)
    for text, _ in record.case_rules:
        texts += (text, text)  # the pair's tuple counted as a text
    return ENTRY_OVERHEAD + RECORD_BYTES + TEXT_BYTES * len(texts) + 2 * sum(map(len, texts))


_SEPARATOR = "\x00"


class _Blob:
    """Strings in one UTF-8 blob, each followed by a NUL: string i is
    ``data[starts[i] : starts[i + 1] - 1]``. A run of them is decoded at once
    and split at the NULs, unless one of them has a NUL of its own."""

    def __init__(self, strings: Iterable[str]) -> None:
        data = bytearray()
        starts = [0]
        with_nul = []
        for number, text in enumerate(strings):
            data += text.encode()
            data += b"\x00"
            starts.append(len(data))
            if _SEPARATOR in text:
                with_nul.append(number)
        self.data = bytes(data)
        self.starts = array("q", starts)  # read one at a time: faster than numpy's
        self.with_nul = np.array(with_nul, dtype=np.int64)

    def __getitem__(self, number: int) -> str:
        starts = self.starts
        return self.data[starts[number] : starts[number + 1] - 1].decode()

    def run(self, first: int, end: int) -> list[str]:
        """Strings ``first`` to ``end`` (excluded)."""
        starts, data = self.starts, self.data
        if len(self.with_nul) and self._has_nul(first, end):
            return [data[a : b - 1].decode() for a, b in pairwise(starts[first : end + 1])]
        return data[starts[first] : starts[end] - 1].decode().split(_SEPARATOR)

    def _has_nul(self, first: int, end: int) -> bool:
        at = int(self.with_nul.searchsorted(first))
        return at < len(self.with_nul) and int(self.with_nul[at]) < end


class EntityTable(Mapping[str, EntityRecord]):
    """Entity records by id, in the order given; each is numbered by its place
    among those given, and an id given twice names its last record."""

    def __init__(self, records: Iterable[EntityRecord]) -> None:
        records = list(records)
        # Ids as strings: every form's Posting names one (a few MiB more than a blob).
        self._ids = [record.id for record in records]
        self._texts = _Blob(text for record in records for text in record.surface_forms())
        # The texts of record n: its name, then its aliases, numbered from first_texts[n].
        sizes = np.fromiter((1 + len(r.aliases) for r in records), np.int64, len(records))
        self._first_texts = array("q", np.concatenate(([0], np.cumsum(sizes))).tobytes())
        # Types and prominences are read one record at a time, as a record is
        # made: ``array`` gives Python numbers several times faster than numpy.
        type_numbers: dict[str, int] = {}
        self._types = array(
            "i", (type_numbers.setdefault(r.type, len(type_numbers)) for r in records)
        )
        self._type_names = list(type_numbers)
        self._prominences = array(
            "d", (math.nan if r.prominence is None else r.prominence for r in records)
        )
        self._descriptions = {n: r.description for n, r in enumerate(records) if r.description}
        self._case_rules = {n: r.case_rules for n, r in enumerate(records) if r.case_rules}
        self._numbers = self._numbered_ids()
        self._listed = np.fromiter(self._numbers.values(), np.int32, len(self._numbers))
        # Records made from the arrays and kept, for the entities asked for again and again.
        self._made: MemoryCache[str, EntityRecord] = segment_cache(
            RECORD_CACHE_BYTES, record_entry_size
        )

    # Pickled without the records it made, and without the numbers of the ids,
    # made again from the ids in a fraction of the time they unpickle in.
    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_made", "_numbers")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._numbers = self._numbered_ids()
        self._made = segment_cache(RECORD_CACHE_BYTES, record_entry_size)

    def _numbered_ids(self) -> dict[str, int]:
        """The record each id names (its last), in the order of the ids' first place."""
        return dict(zip(self._ids, range(len(self._ids)), strict=True))

    def number(self, entity_id: str) -> int:
        """The number of the record that ``entity_id`` names; -1 for none."""
        return self._numbers.get(entity_id, -1)

    def _make_by_id(self, entity_id: str) -> EntityRecord:
        return self._make(self._numbers[entity_id])

    def _make(self, number: int) -> EntityRecord:
        name, *aliases = self._texts.run(self._first_texts[number], self._first_texts[number + 1])
        return EntityRecord(
            self._ids[number],
            name,
            self._type_names[self._types[number]],
            tuple(aliases),
            self._case_rules.get(number, ()),
            self.prominence(number),
            self._descriptions.get(number),
        )

    def id_of(self, number: int) -> str:
        return self._ids[number]

    def text(self, number: int, place: int) -> str:
        """Record ``number``'s surface form at ``place``: 0 its name, 1 its first alias ..."""
        return self._texts[self._first_texts[number] + place]

    def prominence(self, number: int) -> float | None:
        prominence = self._prominences[number]
        return None if prominence != prominence else prominence  # NaN: none

    def prominences(self) -> np.ndarray:
        """Each record's prominence, NaN where it has none, by number (read-only)."""
        return np.frombuffer(self._prominences, dtype=np.float64)

    def __getitem__(self, entity_id: str) -> EntityRecord:
        found = self.get(entity_id)
        if found is None:
            raise KeyError(entity_id)
        return found

    def get(self, entity_id: str, default: T | None = None) -> EntityRecord | T | None:  # type: ignore[override]
        """The record ``entity_id`` names, made once and kept for a while."""
        if entity_id not in self._numbers:
            return default
        return self._made.remembered(entity_id, self._make_by_id)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._numbers

    def __iter__(self) -> Iterator[str]:
        return iter(self._numbers)

    def __len__(self) -> int:
        return len(self._listed)

    def values(self) -> Iterator[EntityRecord]:  # type: ignore[override]
        return map(self._make, self._listed.tolist())

    def types(self) -> Iterator[str]:
        """The type of each record an id names."""
        names = self._type_names
        numbers = np.frombuffer(self._types, dtype=np.int32)[self._listed]
        return (names[t] for t in numbers.tolist())

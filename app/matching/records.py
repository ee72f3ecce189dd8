"""The entities a segment knows, kept packed: each ``EntityRecord`` is made when asked for.

A million aliases are a quarter of a million records, and as Python objects
(a string per alias, a tuple per entity) they cost about 185 MiB. Here every
text is in one UTF-8 blob, the ids in another, and the rest in arrays: the
type as a number into the few type names, the prominence as a float (NaN for
none); the few descriptions and editors' case rules in dictionaries. An id is
found by its 64-bit digest (``digest``) in a sorted array, then compared.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

import numpy as np
from xxhash import xxh3_64_intdigest

T = TypeVar("T")
# Records made from the arrays and kept, for the entities asked for again and again.
MAX_REMEMBERED_RECORDS = 4096


def digest(key: str) -> int:
    """A key's 64-bit digest, the same in every process (``hash`` is not)."""
    return xxh3_64_intdigest(key.encode())


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


class _Blob:
    """Strings in one UTF-8 blob: string i is ``data[starts[i] : starts[i + 1]]``."""

    def __init__(self, strings: Iterable[str]) -> None:
        data = bytearray()
        starts = [0]
        for text in strings:
            data += text.encode()
            starts.append(len(data))
        self.data = bytes(data)
        self.starts = np.array(starts, dtype=np.int64)

    def __getitem__(self, number: int) -> str:
        start, end = self.starts[number : number + 2].tolist()
        return self.data[start:end].decode()

    def run(self, first: int, end: int) -> list[str]:
        """Strings ``first`` to ``end`` (excluded)."""
        starts, data = self.starts[first : end + 1].tolist(), self.data
        return [data[a:b].decode() for a, b in pairwise(starts)]


class EntityTable(Mapping[str, EntityRecord]):
    """Entity records by id, in the order given; each is numbered by its place
    among those given, and an id given twice names its last record."""

    def __init__(self, records: Iterable[EntityRecord]) -> None:
        records = list(records)
        self._ids = _Blob(record.id for record in records)
        self._texts = _Blob(text for record in records for text in record.surface_forms())
        # The texts of record n: its name, then its aliases, numbered from first_texts[n].
        sizes = np.fromiter((1 + len(r.aliases) for r in records), np.int64, len(records))
        self._first_texts = np.zeros(len(records) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self._first_texts[1:])
        type_numbers: dict[str, int] = {}
        self._types = np.fromiter(
            (type_numbers.setdefault(r.type, len(type_numbers)) for r in records),
            np.int32,
            len(records),
        )
        self._type_names = list(type_numbers)
        self._prominences = np.fromiter(
            (np.nan if r.prominence is None else r.prominence for r in records),
            np.float64,
            len(records),
        )
        self._descriptions = {n: r.description for n, r in enumerate(records) if r.description}
        self._case_rules = {n: r.case_rules for n, r in enumerate(records) if r.case_rules}
        # The records that ids name (the last of each id), in the order of their ids' first place.
        last = {record.id: number for number, record in enumerate(records)}
        self._listed = np.fromiter(last.values(), np.int32, len(last))
        digests = np.fromiter(map(digest, last), np.uint64, len(last))
        order = np.argsort(digests, kind="stable")
        self._digests, self._filed = digests[order], self._listed[order]
        self._made: dict[int, EntityRecord] = {}

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_made"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._made = {}

    def number(self, entity_id: str) -> int:
        """The number of the record that ``entity_id`` names; -1 for none."""
        wanted = np.uint64(digest(entity_id))
        filed = self._digests
        start = int(filed.searchsorted(wanted, "left"))
        end = int(filed.searchsorted(wanted, "right"))
        for number in self._filed[start:end].tolist():
            if self._ids[number] == entity_id:
                return int(number)
        return -1

    def record(self, number: int) -> EntityRecord:
        """Record ``number``, made once and kept for a while."""
        found = self._made.get(number)
        if found is None:
            if len(self._made) >= MAX_REMEMBERED_RECORDS:
                self._made.clear()
            found = self._made[number] = self._make(number)
        return found

    def _make(self, number: int) -> EntityRecord:
        first, end = self._first_texts[number : number + 2].tolist()
        name, *aliases = self._texts.run(first, end)
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
        return self._texts[int(self._first_texts[number]) + place]

    def prominence(self, number: int) -> float | None:
        prominence = float(self._prominences[number])
        return None if prominence != prominence else prominence  # NaN: none

    def prominences(self) -> np.ndarray:
        """Each record's prominence, NaN where it has none, by number."""
        return self._prominences

    def __getitem__(self, entity_id: str) -> EntityRecord:
        number = self.number(entity_id)
        if number < 0:
            raise KeyError(entity_id)
        return self.record(number)

    def get(self, entity_id: str, default: T | None = None) -> EntityRecord | T | None:  # type: ignore[override]
        number = self.number(entity_id)
        return default if number < 0 else self.record(number)

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and self.number(entity_id) >= 0

    def __iter__(self) -> Iterator[str]:
        return map(self._ids.__getitem__, self._listed.tolist())

    def __len__(self) -> int:
        return len(self._listed)

    def values(self) -> Iterator[EntityRecord]:  # type: ignore[override]
        return map(self._make, self._listed.tolist())

    def types(self) -> Iterator[str]:
        """The type of each record an id names."""
        names = self._type_names
        return (names[t] for t in self._types[self._listed].tolist())

"""The in-memory alias index: an immutable snapshot of the curated table.

A snapshot is a large *base* segment plus a small *overlay* that holds the
entities edited since the base was built. An edit makes a new snapshot that
shares the base and rebuilds only the overlay, so it costs as much as the
entities it touches, not the whole table; readers holding the old snapshot
are never disturbed. When the overlay grows large, the owner rebuilds a
fresh base (see ``app.live_index``).
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.matching.normalize import normalize


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """What the engine knows of one entity: its names, nothing of storage."""

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()

    def surface_forms(self) -> Iterator[str]:
        """The canonical name first, then every alias."""
        yield self.name
        yield from self.aliases


@dataclass(frozen=True, slots=True)
class Posting:
    """One surface form of one entity, found under a normalised key."""

    entity_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Segment:
    """A set of entities and the lookup structures built over their forms."""

    entities: Mapping[str, EntityRecord]
    exact: Mapping[str, tuple[Posting, ...]]
    alias_count: int

    @classmethod
    def build(cls, entities: Iterable[EntityRecord]) -> "Segment":
        by_id: dict[str, EntityRecord] = {}
        exact: dict[str, list[Posting]] = {}
        alias_count = 0
        for entity in entities:
            by_id[entity.id] = entity
            seen: set[str] = set()
            for form in entity.surface_forms():
                key = normalize(form)
                if key and key not in seen:
                    seen.add(key)
                    exact.setdefault(key, []).append(Posting(entity.id, form))
            alias_count += len(entity.aliases)
        return cls(
            entities=MappingProxyType(by_id),
            exact=MappingProxyType({key: tuple(p) for key, p in exact.items()}),
            alias_count=alias_count,
        )


EMPTY_SEGMENT = Segment.build(())


@dataclass(frozen=True, slots=True)
class AliasIndex:
    """An immutable snapshot: a base segment, minus hidden IDs, plus an overlay."""

    base: Segment = EMPTY_SEGMENT
    overlay: Segment = EMPTY_SEGMENT
    # Entities of the base that were edited or deleted since it was built.
    hidden: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, entities: Iterable[EntityRecord]) -> "AliasIndex":
        return cls(base=Segment.build(entities))

    def with_changes(
        self, upserts: Iterable[EntityRecord], removed: Iterable[str] = ()
    ) -> "AliasIndex":
        """A new snapshot in which ``upserts`` replace their namesakes and ``removed`` are gone."""
        changed = {entity.id: entity for entity in upserts}
        gone = set(removed) | changed.keys()
        kept = (e for e in self.overlay.entities.values() if e.id not in gone)
        return AliasIndex(
            base=self.base,
            overlay=Segment.build([*kept, *changed.values()]),
            hidden=self.hidden | (gone & self.base.entities.keys()),
        )

    def compacted(self) -> "AliasIndex":
        """The same content with the overlay folded into a fresh base."""
        return AliasIndex.build(self.entities())

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

    def exact(self, key: str) -> list[Posting]:
        """Every surface form whose normal form is ``key``."""
        found = [p for p in self.base.exact.get(key, ()) if p.entity_id not in self.hidden]
        found.extend(self.overlay.exact.get(key, ()))
        return found

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

"""An entity's state as history keeps it, read from the table and written back.

A state is plain JSON: ``{"id", "name", "type", "description", "prominence",
"aliases": [{"id", "text", "note", "case_sensitive"}]}``, aliases by ID, or
``None`` where the entity does not exist. History records an edit as each
touched entity's state before and after it, and undoing the edit writes the
states before back (``restore``), alias IDs included.

A state may also be a marker instead of a row: a merged entity's
``{"id": ..., "merged_into": ...}``, which stands for no entity and a
redirect to the entity it was merged into (``app.redirects``).
``read_states`` and ``restore`` are the two places that read and write it.
"""

from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from typing import Any, TypeGuard, TypeVar

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, col

from app import redirects
from app.errors import Conflict
from app.matching.normalize import normalize
from app.models.tables import Alias, Entity, utcnow

State = dict[str, Any] | None
T = TypeVar("T")

_ENTITY_FIELDS = ("name", "type", "description", "prominence")
_ALIAS_FIELDS = ("text", "note", "case_sensitive")
# IDs per query: under the databases' bound-parameter limits.
PARAMETER_CHUNK = 500


MERGED_INTO = "merged_into"


def merged_marker(entity_id: str, into: str) -> dict[str, Any]:
    return {"id": entity_id, MERGED_INTO: into}


def is_entity(state: State) -> TypeGuard[dict[str, Any]]:
    """Whether the state is an entity's row, not its absence nor a merged entity's marker."""
    return state is not None and MERGED_INTO not in state


def read_states(session: Session, entity_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The states of those of ``entity_ids`` that exist or were merged, read from the rows.

    Not from the session's objects: a collection loaded before an edit
    would not show what the edit flushed.
    """
    states: dict[str, dict[str, Any]] = {}
    for chunk in chunks(entity_ids):
        entities = select(col(Entity.id), *_columns(Entity, _ENTITY_FIELDS))
        found = []
        for row in session.execute(entities.where(col(Entity.id).in_(chunk))):
            states[row.id] = entity_state(row.id, row, [])
            found.append(row.id)
        # The aliases of the entities found alone: an import's new entities have
        # none to look for (on PostgreSQL each look read the whole alias table
        # the import was growing, 400k aliases imported in 334 s).
        aliases = select(col(Alias.id), col(Alias.entity_id), *_columns(Alias, _ALIAS_FIELDS))
        in_found = aliases.where(col(Alias.entity_id).in_(found)).order_by(col(Alias.id))
        for row in session.execute(in_found) if found else ():
            states[row.entity_id]["aliases"].append(alias_state(row.id, row))
        absent = [entity_id for entity_id in chunk if entity_id not in states]
        for entity_id, into in redirects.targets(session, absent).items():
            states[entity_id] = merged_marker(entity_id, into)
    return states


def entity_state(entity_id: str, fields: Any, aliases: list[dict[str, Any]]) -> dict[str, Any]:
    """The state of an entity whose fields are the attributes of ``fields`` (a row,
    or the entry it was written from)."""
    return {"id": entity_id, **{f: getattr(fields, f) for f in _ENTITY_FIELDS}, "aliases": aliases}


def alias_state(alias_id: int, fields: Any) -> dict[str, Any]:
    return {"id": alias_id, **{f: getattr(fields, f) for f in _ALIAS_FIELDS}}


def read_state(session: Session, entity_id: str) -> State:
    return read_states(session, [entity_id]).get(entity_id)


def restore(session: Session, states: dict[str, State], *, revision: int) -> None:
    """Make each entity's rows its state: ``None`` deletes the entity, a merged
    entity's marker deletes it and keeps its redirect, and only a marker keeps one.

    Every touched entity's aliases go first, so that an alias one of them
    had may come back on another (a merge undone) without meeting itself.
    An alias ID that another entity now holds is a conflict.
    """
    remove_aliases(session, list(states))
    remove_entities(
        session, [entity_id for entity_id, state in states.items() if not is_entity(state)]
    )
    _restore_redirects(session, states, revision=revision)
    present = {entity_id: state for entity_id, state in states.items() if is_entity(state)}
    _check_alias_ids_are_free(session, present)
    for entity_id, state in present.items():
        _write_entity(session, entity_id, state)
    aliases = [
        {**alias, "entity_id": entity_id, "normalized": normalize(alias["text"])}
        for entity_id, state in present.items()
        for alias in state["aliases"]
    ]
    for batch in chunks(aliases):
        session.execute(insert(Alias), batch)
    session.expire_all()  # the session's objects are older than the rows now


def remove_entities(session: Session, entity_ids: list[str]) -> None:
    """Delete the entities and their aliases (not left to the database's cascade, so
    that it holds on a SQLite connection without foreign keys too)."""
    remove_aliases(session, entity_ids)
    for chunk in chunks(entity_ids):
        session.execute(delete(Entity).where(col(Entity.id).in_(chunk)))


def remove_aliases(session: Session, entity_ids: list[str]) -> None:
    for chunk in chunks(entity_ids):
        session.execute(delete(Alias).where(col(Alias.entity_id).in_(chunk)))


def _restore_redirects(session: Session, states: dict[str, State], *, revision: int) -> None:
    for chunk in chunks(states):
        leads = {
            entity_id: state[MERGED_INTO]
            for entity_id in chunk
            if (state := states[entity_id]) is not None and MERGED_INTO in state
        }
        redirects.replace(session, entity_ids=chunk, leads=leads, revision=revision)


def _write_entity(session: Session, entity_id: str, state: dict[str, Any]) -> None:
    fields = {**{f: state[f] for f in _ENTITY_FIELDS}, "normalized_name": normalize(state["name"])}
    now = utcnow()
    stored = select(col(Entity.id)).where(col(Entity.id) == entity_id)
    if session.execute(stored).first() is not None:
        session.execute(
            update(Entity).where(col(Entity.id) == entity_id).values(**fields, updated_at=now)
        )
    else:
        session.execute(
            insert(Entity).values(id=entity_id, **fields, created_at=now, updated_at=now)
        )


def _check_alias_ids_are_free(session: Session, states: dict[str, dict[str, Any]]) -> None:
    wanted = [alias["id"] for state in states.values() for alias in state["aliases"]]
    for chunk in chunks(wanted):
        taken = session.execute(
            select(col(Alias.id), col(Alias.entity_id)).where(col(Alias.id).in_(chunk))
        ).first()
        if taken is not None:
            raise Conflict(
                f"alias id {taken.id} cannot come back: entity {taken.entity_id!r} has it now"
            )


def _columns(table: type[Entity] | type[Alias], fields: tuple[str, ...]) -> list[Any]:
    return [col(getattr(table, field)) for field in fields]


def new_forms(before: State, after: State) -> set[str]:
    """The normal forms (of names and aliases) ``after`` has and ``before`` had not."""
    return _forms(after) - _forms(before)


def _forms(state: State) -> set[str]:
    """The normal forms of the entity's name and aliases."""
    if state is None or "aliases" not in state:
        return set()
    return {normalize(state["name"])} | {normalize(alias["text"]) for alias in state["aliases"]}


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size``, the last one shorter; read as they are needed."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def chunks(items: Iterable[T]) -> Iterator[list[T]]:
    """``items`` in lists short enough for one statement's bound parameters."""
    return batches(items, PARAMETER_CHUNK)

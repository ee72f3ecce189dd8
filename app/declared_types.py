"""Declared entity types: the table's vocabulary of types, and the checks that keep to it.

With no type declared, a type is a free word, as it always was. Once any type
is declared, every entity's type must be one of them, written exactly as
declared: ``Organization`` beside ``organization`` is the drift that declaring
types prevents. Two declared types may not differ only in case, and filters
(``/entities?type=``, ``/resolve?type=``, ``/annotate``'s ``types``) compare
types ignoring case, as they always have.
"""

from collections.abc import Iterable, Mapping
from typing import Literal

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.audit import ChangeRow
from app.errors import Conflict, UnknownType, clipped
from app.matching.type_names import did_you_mean
from app.models.api import EntityTypeCreate, EntityTypeList, EntityTypePublic
from app.models.fields import MAX_DECLARED_TYPES
from app.models.tables import Entity, EntityType

# The audit action of a change to the declared types alone: no entity changed.
TYPES_ACTION = "declare_types"
# Undeclared types named in one refusal, at most.
_NAMED = 5
# Declared types listed in a refusal that has no suggestion, at most.
_LISTED = 20


def declared_ids(*, session: Session) -> list[str]:
    """The declared types, sorted; empty when types are free words."""
    return list(session.exec(select(EntityType.id).order_by(col(EntityType.id))).all())


def for_export(*, session: Session) -> list[EntityTypeCreate] | None:
    """The declared types as the alias file lists them; None when there are none."""
    rows = session.exec(select(EntityType).order_by(col(EntityType.id))).all()
    if not rows:
        return None
    return [EntityTypeCreate.model_construct(id=t.id, description=t.description) for t in rows]


def list_types(*, session: Session) -> EntityTypeList:
    """The declared types with their entity counts; with none declared, the types in use."""
    counts = dict(session.exec(select(Entity.type, func.count()).group_by(Entity.type)).all())
    declared = session.exec(select(EntityType).order_by(col(EntityType.id))).all()
    if declared:
        items = [
            EntityTypePublic(id=t.id, description=t.description, entities=counts.get(t.id, 0))
            for t in declared
        ]
    else:
        items = [
            EntityTypePublic(id=kind, description=None, entities=count)
            for kind, count in sorted(counts.items())
        ]
    return EntityTypeList(items=items)


def check_entity_type(*, session: Session, entity_type: str) -> None:
    """Refuse a type for an entity that the table does not declare, when it declares any."""
    declared = declared_ids(session=session)
    if declared and entity_type not in declared:
        raise UnknownType(_not_declared(entity_type, declared))


def check_filter(*, session: Session, entity_types: Iterable[str]) -> None:
    """Refuse a type filter that no type declared or in use answers (it would find nothing)."""
    in_use = session.exec(select(Entity.type).distinct()).all()
    known = {kind.casefold(): kind for kind in [*in_use, *declared_ids(session=session)]}
    check_filters(known, entity_types)


def check_filters(known: Mapping[str, str], types: Iterable[str] | None) -> None:
    """Refuse the first of ``types`` not in ``known`` (the types by their case-folded name)."""
    for kind in types or ():
        if kind.casefold() not in known:
            raise UnknownType(
                f"no entity type is {clipped(kind)!r} (neither declared nor in use)"
                f"{did_you_mean(kind, known.values())}"
            )


def settle_import(
    *,
    session: Session,
    types: list[EntityTypeCreate] | None,
    mode: Literal["merge", "replace"],
) -> list[ChangeRow]:
    """Store an imported file's types, once its entities are stored, and check every entity.

    ``replace`` makes the declared types exactly the file's (none when it lists
    none); ``merge`` adds the file's and updates their descriptions. Then, when
    any type is declared, every entity of the table must have one of them.
    """
    before = _declared(session)
    if mode == "replace":
        session.exec(delete(EntityType))
        session.add_all(EntityType(id=t.id, description=t.description) for t in types or ())
    else:
        _merge_types(session, before, types or [])
    session.flush()
    after = _declared(session)
    if len(after) > MAX_DECLARED_TYPES:  # merged with those declared before
        raise Conflict(
            f"the table would declare {len(after):,} types; "
            f"a table declares at most {MAX_DECLARED_TYPES:,}"
        )
    _check_table(session, list(after))
    if after == before:
        return []
    return [ChangeRow(TYPES_ACTION, None, detail={"before": before, "after": after})]


def _declared(session: Session) -> dict[str, str]:
    return {t.id: t.description for t in session.exec(select(EntityType))}


def is_types_change(detail: Mapping[str, object]) -> bool:
    """Whether a history row's detail is a change of the declared types (its
    ``before`` and ``after``): a declaration, or a revert of one."""
    return set(detail) == {"before", "after"}


def restore_declared(*, session: Session, change: Mapping[str, dict[str, str]]) -> None:
    """Undo a change of the declared types (a history row's detail), once the
    types are as it left them. The caller checks the table (``check_table``)
    once the entities of the same edit are restored too."""
    if _declared(session) != change["after"]:
        raise Conflict("the declared types were changed since: revert the later change first")
    session.exec(delete(EntityType))
    session.add_all(EntityType(id=i, description=d) for i, d in change["before"].items())
    session.flush()


def check_table(*, session: Session) -> None:
    """Refuse when some entity has a type that is not declared (with any declared)."""
    _check_table(session, list(_declared(session)))


def _merge_types(session: Session, stored: dict[str, str], types: list[EntityTypeCreate]) -> None:
    by_folded = {kind.casefold(): kind for kind in stored}
    for declared in types:
        held = by_folded.get(declared.id.casefold(), declared.id)
        if held != declared.id:
            raise Conflict(
                f"type {declared.id!r} is declared already as {held!r}: types may not differ "
                "only in case"
            )
        row = session.get(EntityType, declared.id)
        if row is None:
            session.add(EntityType(id=declared.id, description=declared.description))
        else:
            row.description = declared.description


def _check_table(session: Session, declared: list[str]) -> None:
    """Refuse when some entity has a type that is not declared (with any declared)."""
    if not declared:
        return
    undeclared = session.exec(
        select(Entity.type, func.min(Entity.id), func.count())
        .where(col(Entity.type).not_in(declared))
        .group_by(Entity.type)
        .order_by(Entity.type)
        .limit(_NAMED)
    ).all()
    if undeclared:
        raise UnknownType(
            "; ".join(
                f"entity {first!r}{_and_more(count)} has the type {kind!r}, which is not declared"
                f"{did_you_mean(kind, declared)}"
                for kind, first, count in undeclared
            )
        )


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown if len(names) <= _LISTED else f"{shown}, ... ({len(names):,} in all)"


def _and_more(count: int) -> str:
    return "" if count == 1 else f" (and {count - 1:,} more)"


def _not_declared(entity_type: str, declared: list[str]) -> str:
    suggestion = did_you_mean(entity_type, declared)
    listed = "" if suggestion else f" (declared: {_some(declared)})"
    return f"type {entity_type!r} is not declared{suggestion or listed}"

"""The curated table in the database: every read and every edit.

Each editing function owns its transaction: it commits, or changes nothing.
Every commit raises the table revision by one and records who changed which
entity in the audit trail; other processes watch that revision to refresh
their index (``app.live_index``).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal, TypeVar

from sqlalchemy import delete, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app.errors import Conflict, NotFound
from app.matching.index import EntityRecord
from app.matching.normalize import form_key, normalize
from app.models import (
    Alias,
    AliasCreate,
    AliasFile,
    AliasPublic,
    Change,
    Entity,
    EntityCreate,
    EntityList,
    EntityPublic,
    EntityUpdate,
    ImportReport,
    TableState,
    utcnow,
)

ImportMode = Literal["merge", "replace"]
T = TypeVar("T")


# --- reading -------------------------------------------------------------------


def get_entity(*, session: Session, entity_id: str) -> EntityPublic:
    return _to_public(_find_entity(session, entity_id))


def list_entities(
    *,
    session: Session,
    entity_type: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> EntityList:
    """Entities by ID, filtered by type and by a text found in a name, alias or ID."""
    conditions = []
    if entity_type:
        conditions.append(func.lower(Entity.type) == entity_type.casefold())
    if q and q.strip():
        conditions.append(_mentions(q))
    total = session.exec(select(func.count()).select_from(Entity).where(*conditions)).one()
    rows = session.exec(
        select(Entity)
        .where(*conditions)
        .order_by(col(Entity.id))
        .offset(offset)
        .limit(limit)
        .options(selectinload(Entity.aliases))  # type: ignore[arg-type]
    ).all()
    return EntityList(items=[_to_public(e) for e in rows], total=total)


def _mentions(q: str) -> Any:
    text, key = q.strip(), normalize(q)
    found = [col(Entity.id) == text, col(Entity.name).icontains(text, autoescape=True)]
    if key:  # punctuation alone has no normal form, and would match every alias
        by_alias = select(Alias.entity_id).where(
            col(Alias.normalized).contains(key, autoescape=True)
        )
        found.append(col(Entity.id).in_(by_alias))
    return or_(*found)


def entity_types(*, session: Session) -> list[str]:
    """Every type the table's entities have, sorted."""
    return sorted(session.exec(select(Entity.type).distinct()).all())


def export_table(*, session: Session) -> AliasFile:
    """The whole table, entities by ID and aliases in the order they were added."""
    rows = session.exec(
        select(Entity).order_by(col(Entity.id)).options(selectinload(Entity.aliases))  # type: ignore[arg-type]
    ).all()
    return AliasFile(entities=[_to_entry(entity) for entity in rows])


def is_empty(*, session: Session) -> bool:
    return session.exec(select(Entity.id).limit(1)).first() is None


def is_new(*, session: Session) -> bool:
    """True for a database that never had a change committed: no revision, no entity.

    A table that editors emptied has a revision above 0, so it stays empty.
    """
    return current_revision(session=session) == 0 and is_empty(session=session)


def try_write(*, session: Session) -> None:
    """Write what every edit writes (the revision row, the audit trail); the caller rolls back."""
    hold_write_lock(session=session)
    probe = {"revision": 0, "at": utcnow(), "actor": "readiness", "action": "write check"}
    session.exec(insert(Change).values(**probe, detail={}))


def hold_write_lock(*, session: Session) -> None:
    """Take the lock every edit takes first (the revision row), until the session ends."""
    session.exec(
        update(TableState).where(col(TableState.id) == 1).values(revision=TableState.revision)
    )


def current_revision(*, session: Session) -> int:
    return session.exec(select(TableState.revision).where(TableState.id == 1)).one()


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What changed after one revision, up to and including ``revision``."""

    revision: int
    entity_ids: frozenset[str]
    whole_table: bool


def changes_since(*, session: Session, revision: int) -> ChangeSet:
    newest = current_revision(session=session)
    rows = session.exec(
        select(Change.entity_id)
        .where(Change.revision > revision, Change.revision <= newest)
        .distinct()
    ).all()
    ids = frozenset(r for r in rows if r is not None)
    return ChangeSet(revision=newest, entity_ids=ids, whole_table=None in rows)


def revision_mark(*, session: Session, revision: int) -> str | None:
    """What tells ``revision`` of this database from the same revision of another:
    the revision with its first change's id and time; None when it has no change."""
    first = session.exec(
        select(Change.id, Change.at)
        .where(Change.revision == revision)
        .order_by(col(Change.id))
        .limit(1)
    ).first()
    return None if first is None else f"{revision}:{first[0]}:{first[1].isoformat()}"


def load_records(
    *, session: Session, entity_ids: Iterable[str] | None = None
) -> list[EntityRecord]:
    """The engine's view of the named entities (of every entity when None)."""
    entity_query = select(Entity.id, Entity.name, Entity.type, Entity.prominence)
    alias_query = select(Alias.entity_id, Alias.text, Alias.case_sensitive).order_by(col(Alias.id))
    if entity_ids is not None:
        wanted = list(entity_ids)
        entity_query = entity_query.where(col(Entity.id).in_(wanted))
        alias_query = alias_query.where(col(Alias.entity_id).in_(wanted))
    # Core rows, not the ORM's: a start-up reads a million of them.
    connection = session.connection()
    aliases: dict[str, list[str]] = {}
    case_rules: dict[str, list[tuple[str, bool]]] = {}
    for entity_id, text, case_sensitive in connection.execute(alias_query):
        found = aliases.get(entity_id)
        if found is None:
            aliases[entity_id] = [text]
        else:
            found.append(text)
        if case_sensitive is not None:
            case_rules.setdefault(entity_id, []).append((text, case_sensitive))
    return [
        EntityRecord(
            i,
            name,
            kind,
            tuple(aliases.pop(i, ())),
            tuple(case_rules.get(i, ())),
            prominence,
        )
        for i, name, kind, prominence in connection.execute(entity_query)
    ]


# --- editing ---------------------------------------------------------------------


def create_entity(*, session: Session, actor: str, data: EntityCreate) -> EntityPublic:
    if session.get(Entity, data.id) is not None:
        raise Conflict(f"entity {data.id!r} already exists")
    entity = _insert_entity(session, data)
    _commit(session, actor, [("create", data.id, {"aliases": len(data.aliases)})])
    return _to_public(entity)


# The entity fields that PATCH may set to null.
_CLEARABLE = frozenset({"description", "prominence"})


def update_entity(
    *, session: Session, actor: str, entity_id: str, data: EntityUpdate
) -> EntityPublic:
    entity = _find_entity(session, entity_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        _check_form_is_new(entity, changes["name"], what="name")
    for field, value in changes.items():
        if value is None and field not in _CLEARABLE:
            continue  # name and type cannot be unset
        setattr(entity, field, value)
    entity.updated_at = utcnow()
    _commit(session, actor, [("update", entity_id, changes)])
    return _to_public(entity)


def delete_entity(*, session: Session, actor: str, entity_id: str) -> None:
    entity = _find_entity(session, entity_id)
    session.delete(entity)
    _commit(session, actor, [("delete", entity_id, {"name": entity.name})])


def add_alias(*, session: Session, actor: str, entity_id: str, data: AliasCreate) -> AliasPublic:
    entity = _find_entity(session, entity_id)
    _check_form_is_new(entity, data.text, what="alias")
    alias = _new_alias(entity_id, data)
    session.add(alias)
    entity.updated_at = utcnow()
    _commit(session, actor, [("add_alias", entity_id, {"text": data.text})])
    return AliasPublic.model_validate(alias, from_attributes=True)


def delete_alias(*, session: Session, actor: str, entity_id: str, alias_id: int) -> None:
    alias = session.get(Alias, alias_id)
    if alias is None or alias.entity_id != entity_id:
        raise NotFound(f"entity {entity_id!r} has no alias with id {alias_id}")
    session.delete(alias)
    _commit(session, actor, [("delete_alias", entity_id, {"text": alias.text})])


# Entities stored per round of an import: the memory an import holds is bounded
# by this, not by the size of the file.
IMPORT_BATCH = 1000


def import_table(
    *,
    session: Session,
    actor: str,
    table: AliasFile,
    mode: ImportMode,
    allow_empty: bool = False,
) -> ImportReport:
    """Load an alias file in one transaction (see ``import_entities``)."""
    return import_entities(
        session=session, actor=actor, entries=table.entities, mode=mode, allow_empty=allow_empty
    )


def import_entities(
    *,
    session: Session,
    actor: str,
    entries: Iterable[EntityCreate],
    mode: ImportMode,
    allow_empty: bool = False,
    batch_size: int = IMPORT_BATCH,
) -> ImportReport:
    """Store entries as they come, ``batch_size`` at a time, in one transaction.

    ``merge`` adds the file's entities, updates those that exist (name, type,
    description, prominence) and adds the aliases they lack; ``replace`` makes
    the table exactly the file's content. If ``entries`` raises half-way (a
    fault found late in a streamed file), nothing is stored. A file of no
    entities empties the table only with ``allow_empty``: an empty body is far
    likelier a mistake.
    """
    counts = {"created": 0, "updated": 0, "deleted": 0, "aliases_added": 0}
    changes: list[tuple[str, str | None, dict[str, Any]]] = []
    total = 0
    try:
        if mode == "replace":
            counts["deleted"] = _delete_all(session)
        for batch in _batches(entries, batch_size):
            total += len(batch)
            new: list[EntityCreate] = []
            if mode == "replace":
                new = batch
            else:
                changes.extend(_merge_entries(session, batch, new, counts))
            _bulk_insert(session, new)
            counts["created"] += len(new)
            counts["aliases_added"] += sum(len(entry.aliases) for entry in new)
            session.expunge_all()  # flushed: the entities merged need not stay in memory
        if mode == "replace" and not total and not allow_empty:
            raise Conflict(
                "the file has no entities, so a replace would delete every entity: "
                "send allow_empty=true (over HTTP) or --allow-empty (alias-service import) "
                "to empty the table on purpose"
            )
        if mode == "replace":
            changes = [("replace", None, {"entities": total})]
        revision = _commit(session, actor, changes)
    except BaseException:
        session.rollback()
        raise
    return ImportReport(mode=mode, entities=total, revision=revision, **counts)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _merge_entries(
    session: Session, entries: list[EntityCreate], new: list[EntityCreate], counts: dict[str, int]
) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    """Update the entities that exist; collect the others in ``new``."""
    existing = _existing_entities(session, [entry.id for entry in entries])
    for entry in entries:
        entity = existing.get(entry.id)
        if entity is None:
            new.append(entry)
            yield ("create", entry.id, {"aliases": len(entry.aliases)})
            continue
        added = _merge_into(session, entity, entry)
        if added is not None:
            counts["updated"] += 1
            counts["aliases_added"] += added
            yield ("update", entry.id, {"aliases_added": added})


def _merge_into(session: Session, entity: Entity, entry: EntityCreate) -> int | None:
    """Bring ``entity`` up to ``entry``; the number of aliases added, None if unchanged."""
    fields = _entity_fields(entry)
    changed = any(getattr(entity, k) != v for k, v in fields.items())
    for key, value in fields.items():
        setattr(entity, key, value)
    known = {form_key(alias.text) for alias in entity.aliases}
    new = [a for a in entry.aliases if form_key(a.text) not in known]
    for alias in new:
        session.add(_new_alias(entity.id, alias))
    if not (changed or new):
        return None
    entity.updated_at = utcnow()
    return len(new)


def _existing_entities(session: Session, ids: list[str]) -> dict[str, Entity]:
    found: dict[str, Entity] = {}
    for start in range(0, len(ids), 500):  # stay under the databases' bound-parameter limits
        chunk = ids[start : start + 500]
        query = select(Entity).where(col(Entity.id).in_(chunk))
        for entity in session.exec(query.options(selectinload(Entity.aliases))):  # type: ignore[arg-type]
            found[entity.id] = entity
    return found


def _delete_all(session: Session) -> int:
    session.exec(delete(Alias))
    result = session.exec(delete(Entity))
    return int(result.rowcount or 0)


def _bulk_insert(session: Session, entries: list[EntityCreate]) -> None:
    """Insert many new entities with their aliases as a few multi-row statements."""
    now = utcnow()
    entities = [
        {"id": e.id, **_entity_fields(e), "created_at": now, "updated_at": now} for e in entries
    ]
    aliases = [_alias_row(e.id, a) for e in entries for a in e.aliases]
    session.flush()
    # Core statements (executemany), not the ORM's bulk path: nothing here needs
    # the objects back. An empty parameter list would run one INSERT of defaults.
    connection = session.connection()
    for table, rows in ((Entity, entities), (Alias, aliases)):
        if rows:
            connection.execute(insert(table.__table__), rows)  # type: ignore[union-attr]


def _insert_entity(session: Session, data: EntityCreate) -> Entity:
    entity = Entity(id=data.id, **_entity_fields(data))
    session.add(entity)
    for alias in data.aliases:
        session.add(_new_alias(data.id, alias))
    return entity


def _entity_fields(entity: EntityCreate | Entity) -> dict[str, Any]:
    """The fields an entity has besides its ID and aliases, as stored and exchanged."""
    return {
        "name": entity.name,
        "type": entity.type,
        "description": entity.description,
        "prominence": entity.prominence,
    }


def _new_alias(entity_id: str, alias: AliasCreate) -> Alias:
    return Alias(**_alias_row(entity_id, alias))


def _alias_row(entity_id: str, alias: AliasCreate) -> dict[str, Any]:
    """The stored columns of a new alias: its fields and its normal form."""
    return {"entity_id": entity_id, "normalized": normalize(alias.text), **_alias_fields(alias)}


def _alias_fields(alias: AliasCreate | Alias) -> dict[str, Any]:
    return {"text": alias.text, "note": alias.note, "case_sensitive": alias.case_sensitive}


def _check_form_is_new(entity: Entity, text: str, *, what: str) -> None:
    key = form_key(text)
    if what == "alias" and form_key(entity.name) == key:
        raise Conflict(f"{text!r} is the name of entity {entity.id!r} once normalised")
    for alias in entity.aliases:
        if form_key(alias.text) == key:
            raise Conflict(
                f"{what} {text!r} repeats alias {alias.text!r} (id {alias.id}) "
                f"of entity {entity.id!r} once normalised"
            )


def _find_entity(session: Session, entity_id: str) -> Entity:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return entity


def _commit(
    session: Session, actor: str, changes: list[tuple[str, str | None, dict[str, Any]]]
) -> int:
    """Bump the revision, record ``changes`` under it, and commit; the new revision."""
    try:
        session.flush()
        # The row lock taken here also puts concurrent writers in one order.
        session.exec(
            update(TableState)
            .where(col(TableState.id) == 1)
            .values(revision=TableState.revision + 1)
        )
        revision = current_revision(session=session)
        now = utcnow()
        rows = (
            {
                "revision": revision,
                "at": now,
                "actor": actor,
                "action": action,
                "entity_id": entity_id,
                "detail": detail,
            }
            for action, entity_id, detail in changes
        )
        # Multi-row statements, not an object per row: an import records one
        # row per entity, and a batch at a time keeps their parameters small.
        for batch in _batches(rows, IMPORT_BATCH):
            session.execute(insert(Change), batch)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(f"the change conflicts with the stored table: {error.orig}") from None
    return revision


def _to_public(entity: Entity) -> EntityPublic:
    return EntityPublic(
        id=entity.id,
        **_entity_fields(entity),
        aliases=[AliasPublic(id=a.id or 0, **_alias_fields(a)) for a in entity.aliases],
    )


def _to_entry(entity: Entity) -> EntityCreate:
    # Not validated again: an export writes what is stored, even what an older
    # version let in (initials that are now one alias); importing it names that.
    return EntityCreate.model_construct(
        id=entity.id,
        **_entity_fields(entity),
        aliases=[AliasCreate.model_construct(**_alias_fields(a)) for a in entity.aliases],
    )

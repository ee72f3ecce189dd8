"""The curated table in the database: every read and every edit.

Each editing function owns its transaction (``app.audit.edit``): it commits,
or changes nothing. Every commit raises the table revision by one and records
each entity it touched, with its state before and after, in the history;
other processes watch that revision to refresh their index
(``app.live_index``). With ``dry_run`` an edit runs and is rolled back, and
raises :class:`app.audit.WouldChange` saying what it would have changed.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, func, insert, or_, update
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import declared_types, redirects
from app.audit import ChangeRow, Edit, edit
from app.audit import current_revision as current_revision
from app.audit import hold_write_lock as hold_write_lock
from app.errors import Conflict, InvalidInput, NotFound
from app.matching.index import EntityRecord
from app.matching.normalize import form_key, normalize
from app.models import (
    Alias,
    AliasCreate,
    AliasFile,
    AliasFileSource,
    AliasPublic,
    Change,
    Entity,
    EntityCreate,
    EntityList,
    EntityPublic,
    EntityUpdate,
    ImportReport,
    utcnow,
)
from app.states import batches, read_state, read_states, remove_entities

ImportMode = Literal["merge", "replace"]


# --- reading -------------------------------------------------------------------


def get_entity(*, session: Session, entity_id: str) -> EntityPublic:
    return _to_public(_find_entity(session, entity_id))


@dataclass(frozen=True, slots=True)
class MergedInto:
    """Where a merged entity's ID leads now."""

    entity_id: str


def entity_or_redirect(*, session: Session, entity_id: str) -> EntityPublic | MergedInto:
    """The entity; for a merged entity's ID, the entity it was merged into."""
    entity = session.get(Entity, entity_id)
    if entity is not None:
        return _to_public(entity)
    into = redirects.target(session, entity_id)
    if into is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return MergedInto(into)


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
        declared_types.check_filter(session=session, entity_type=entity_type)
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
    """The declared types, sorted; with none declared, every type the entities have."""
    declared = declared_types.declared_ids(session=session)
    return declared or sorted(session.exec(select(Entity.type).distinct()).all())


def export_table(*, session: Session) -> AliasFile:
    """The whole table, entities by ID and aliases in the order they were added."""
    rows = session.exec(
        select(Entity).order_by(col(Entity.id)).options(selectinload(Entity.aliases))  # type: ignore[arg-type]
    ).all()
    return AliasFile(
        types=declared_types.for_export(session=session),
        entities=[_to_entry(entity) for entity in rows],
    )


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


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What changed after one revision, up to and including ``revision``."""

    revision: int
    entity_ids: frozenset[str]
    whole_table: bool


def changes_since(*, session: Session, revision: int) -> ChangeSet:
    newest = current_revision(session=session)
    rows = session.exec(
        select(Change.entity_id, Change.action)
        .where(Change.revision > revision, Change.revision <= newest)
        .distinct()
    ).all()
    ids = frozenset(r for r, _ in rows if r is not None)
    whole_table = any(r is None and action != declared_types.TYPES_ACTION for r, action in rows)
    return ChangeSet(revision=newest, entity_ids=ids, whole_table=whole_table)


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
    aliases: dict[str, list[str]] = {}
    case_rules: dict[str, list[tuple[str, bool]]] = {}
    for entity_id, text, case_sensitive in session.exec(alias_query):
        aliases.setdefault(entity_id, []).append(text)
        if case_sensitive is not None:
            case_rules.setdefault(entity_id, []).append((text, case_sensitive))
    return [
        EntityRecord(
            id=i,
            name=name,
            type=kind,
            aliases=tuple(aliases.get(i, ())),
            case_rules=tuple(case_rules.get(i, ())),
            prominence=prominence,
        )
        for i, name, kind, prominence in session.exec(entity_query)
    ]


# --- editing ---------------------------------------------------------------------


def create_entity(
    *, session: Session, actor: str, data: EntityCreate, dry_run: bool = False
) -> EntityPublic:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        if session.get(Entity, data.id) is not None:
            raise Conflict(f"entity {data.id!r} already exists")
        _check_not_merged(session, [data.id])
        declared_types.check_entity_type(session=session, entity_type=data.type)
        _insert_entity(session, data)
        return _recorded(current, session, "create", data.id, before=None)


# The entity fields that PATCH may set to null.
_CLEARABLE = frozenset({"description", "prominence"})


def update_entity(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    data: EntityUpdate,
    dry_run: bool = False,
) -> EntityPublic:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _find_entity(session, entity_id)
        before = read_state(session, entity_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("type") is not None:
            declared_types.check_entity_type(session=session, entity_type=changes["type"])
        if changes.get("name") is not None:
            _check_form_is_new(entity, changes["name"], what="name")
        for field, value in changes.items():
            if value is None and field not in _CLEARABLE:
                continue  # name and type cannot be unset
            setattr(entity, field, value)
        entity.updated_at = utcnow()
        return _recorded(current, session, "update", entity_id, before=before)


def delete_entity(*, session: Session, actor: str, entity_id: str, dry_run: bool = False) -> None:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _find_entity(session, entity_id)
        before = read_state(session, entity_id)
        session.delete(entity)
        session.flush()
        current.record([ChangeRow("delete", entity_id, before=before, after=None)])


def add_alias(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    data: AliasCreate,
    dry_run: bool = False,
) -> AliasPublic:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _find_entity(session, entity_id)
        _check_form_is_new(entity, data.text, what="alias")
        before = read_state(session, entity_id)
        alias = _new_alias(entity_id, data)
        session.add(alias)
        entity.updated_at = utcnow()
        _recorded(current, session, "add_alias", entity_id, before=before)
        return AliasPublic.model_validate(alias, from_attributes=True)


def delete_alias(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    alias_id: int,
    dry_run: bool = False,
) -> None:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        _find_entity(session, entity_id)  # a merged entity's ID is named as such
        alias = session.get(Alias, alias_id)
        if alias is None or alias.entity_id != entity_id:
            raise NotFound(f"entity {entity_id!r} has no alias with id {alias_id}")
        before = read_state(session, entity_id)
        session.delete(alias)
        _recorded(current, session, "delete_alias", entity_id, before=before)


def _recorded(
    current: Edit, session: Session, action: str, entity_id: str, *, before: dict[str, Any] | None
) -> EntityPublic:
    """Record the entity's change, from ``before`` to its rows now; the entity now."""
    session.flush()
    after = read_state(session, entity_id)
    current.record([ChangeRow(action, entity_id, before=before, after=after)])
    return EntityPublic.model_validate(after)


def merge_entity(
    *, session: Session, actor: str, entity_id: str, into: str, dry_run: bool = False
) -> EntityPublic:
    """Merge entity ``entity_id`` into entity ``into``, which stays; the survivor as it is now.

    The merged entity's aliases move with their IDs, but for the forms the
    survivor has already, which are dropped; its name becomes an alias unless
    the survivor has its form; a description or prominence the survivor lacks
    is taken from it. The merged entity is deleted, and its ID (with every ID
    that led to it) redirects to the survivor. History has a row for each
    (the merged one's after is its marker), so a revert undoes the merge.
    """
    if entity_id == into:
        raise InvalidInput(f"entity {entity_id!r} cannot be merged into itself")
    with edit(session, actor=actor, dry_run=dry_run) as current:
        _find_entity(session, entity_id)
        _find_survivor(session, into)
        led = redirects.leading_to(session, entity_id)
        before = read_states(session, [entity_id, into, *led])
        _move_forms(session, merged=before[entity_id], survivor=before[into])
        _fill_gaps(session, merged=before[entity_id], survivor=before[into])
        remove_entities(session, [entity_id])
        redirects.repoint(session, from_id=entity_id, into=into, revision=current.revision)
        redirects.replace(
            session, entity_ids=[entity_id], leads={entity_id: into}, revision=current.revision
        )
        session.flush()
        session.expire_all()  # the rows changed under the session's objects
        after = read_states(session, before)
        current.record(
            ChangeRow("merge", touched, before=before[touched], after=after[touched])
            for touched in before
        )
        return EntityPublic.model_validate(after[into])


def _find_survivor(session: Session, entity_id: str) -> None:
    if session.get(Entity, entity_id) is not None:
        return
    into = redirects.target(session, entity_id)
    if into is not None:
        raise Conflict(
            f"entity {entity_id!r} was merged into {into!r} already: merge into {into!r} instead"
        )
    raise NotFound(f"no entity with id {entity_id!r} to merge into")


def _move_forms(session: Session, *, merged: dict[str, Any], survivor: dict[str, Any]) -> None:
    """Give the survivor the merged entity's aliases (with their IDs) and name, each
    unless the survivor has its form already; drop the aliases it has."""
    known = {form_key(survivor["name"])} | {form_key(a["text"]) for a in survivor["aliases"]}
    moved: list[int] = []
    dropped: list[int] = []
    for alias in merged["aliases"]:
        key = form_key(alias["text"])
        (dropped if key in known else moved).append(alias["id"])
        known.add(key)
    if dropped:
        session.execute(delete(Alias).where(col(Alias.id).in_(dropped)))
    if moved:
        session.execute(
            update(Alias).where(col(Alias.id).in_(moved)).values(entity_id=survivor["id"])
        )
    if form_key(merged["name"]) not in known:
        # The note does not name the merged ID: no answer names it again.
        name = AliasCreate.model_construct(
            text=merged["name"],
            note="name of an entity merged into this one",
            case_sensitive=None,
        )
        session.execute(insert(Alias).values(**_alias_row(survivor["id"], name)))


def _fill_gaps(session: Session, *, merged: dict[str, Any], survivor: dict[str, Any]) -> None:
    """Take the description and prominence the survivor lacks from the merged entity."""
    gaps = {
        field: merged[field]
        for field in ("description", "prominence")
        if survivor[field] is None and merged[field] is not None
    }
    session.execute(
        update(Entity).where(col(Entity.id) == survivor["id"]).values(**gaps, updated_at=utcnow())
    )


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
    """Load an alias file in one transaction (see ``import_alias_file``)."""
    return import_alias_file(
        session=session, actor=actor, source=table, mode=mode, allow_empty=allow_empty
    )


def import_alias_file(
    *,
    session: Session,
    actor: str,
    source: AliasFileSource,
    mode: ImportMode,
    allow_empty: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Load an alias file's entities and declared types in one transaction.

    The types are stored once every entity is, since a streamed file may list
    them last; every entity of the table is then checked against them (see
    ``declared_types.settle_import``), before anything is committed.
    """
    return import_entities(
        session=session,
        actor=actor,
        entries=source.entities,
        mode=mode,
        allow_empty=allow_empty,
        dry_run=dry_run,
        before_commit=lambda: declared_types.settle_import(
            session=session, types=source.types, mode=mode
        ),
    )


def import_entities(
    *,
    session: Session,
    actor: str,
    entries: Iterable[EntityCreate],
    mode: ImportMode,
    allow_empty: bool = False,
    batch_size: int = IMPORT_BATCH,
    before_commit: Callable[[], list[ChangeRow]] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Store entries as they come, ``batch_size`` at a time, in one transaction.

    ``merge`` adds the file's entities, updates those that exist (name, type,
    description, prominence) and adds the aliases they lack; ``replace`` makes
    the table exactly the file's content. If ``entries`` raises half-way (a
    fault found late in a streamed file), nothing is stored. A file of no
    entities empties the table only with ``allow_empty``: an empty body is far
    likelier a mistake. History gets a row per entity created, updated or
    deleted (action ``import`` or ``replace``), written batch by batch.
    ``before_commit`` does the checks and writes that need every entry stored;
    the history rows it gives are recorded with the others.
    """
    counts = {"created": 0, "updated": 0, "deleted": 0, "aliases_added": 0}
    in_file: set[str] = set()
    with edit(session, actor=actor, dry_run=dry_run) as current:
        for batch in batches(entries, batch_size):
            in_file.update(entry.id for entry in batch)
            store_batch = _replace_entries if mode == "replace" else _merge_entries
            current.record(store_batch(session, batch, counts))
            session.expunge_all()  # flushed: the entities merged need not stay in memory
        if mode == "replace":
            if not in_file and not allow_empty:
                raise Conflict(
                    "the file has no entities, so a replace would delete every entity: "
                    "send allow_empty=true (over HTTP) or --allow-empty (alias-service import) "
                    "to empty the table on purpose"
                )
            current.record(_delete_others(session, in_file, counts, batch_size))
            # The whole table changed: other processes rebuild their index.
            current.record([ChangeRow("replace", None, detail={"entities": len(in_file)})])
        if before_commit is not None:
            current.record(before_commit())
        revision = current.revision
    return ImportReport(mode=mode, entities=len(in_file), revision=revision, **counts)


def _merge_entries(
    session: Session, entries: list[EntityCreate], counts: dict[str, int]
) -> list[ChangeRow]:
    """Add the new entities, bring those that exist up to the file; their history rows."""
    _check_not_merged(session, [entry.id for entry in entries])
    before = read_states(session, [entry.id for entry in entries])
    new = [entry for entry in entries if entry.id not in before]
    existing = _existing_entities(session, [entry.id for entry in entries if entry.id in before])
    updated = []
    for entry in entries:
        entity = existing.get(entry.id)
        added = None if entity is None else _merge_into(session, entity, entry)
        if added is not None:
            updated.append(entry.id)
            counts["aliases_added"] += added
    _bulk_insert(session, new)
    counts["created"] += len(new)
    counts["updated"] += len(updated)
    counts["aliases_added"] += sum(len(entry.aliases) for entry in new)
    return _import_rows(session, "import", before, [e.id for e in new] + updated)


def _replace_entries(
    session: Session, entries: list[EntityCreate], counts: dict[str, int]
) -> list[ChangeRow]:
    """Write the entries anew, over the stored entities of the same IDs; their history rows."""
    ids = [entry.id for entry in entries]
    _check_not_merged(session, ids)
    before = read_states(session, ids)
    remove_entities(session, list(before))
    _bulk_insert(session, entries)
    counts["created"] += len(entries) - len(before)
    counts["updated"] += len(before)
    counts["aliases_added"] += sum(len(entry.aliases) for entry in entries)
    return _import_rows(session, "replace", before, ids)


def _import_rows(
    session: Session, action: str, before: dict[str, dict[str, Any]], changed: list[str]
) -> list[ChangeRow]:
    session.flush()
    after = read_states(session, changed)
    return [
        ChangeRow(action, entity_id, before=before.get(entity_id), after=after[entity_id])
        for entity_id in changed
    ]


def _delete_others(
    session: Session, keep: set[str], counts: dict[str, int], batch_size: int
) -> Iterator[ChangeRow]:
    """Delete the stored entities whose IDs are not in ``keep``, a batch at a time."""
    others = [i for i in session.exec(select(Entity.id)) if i not in keep]
    for batch in batches(others, batch_size):
        before = read_states(session, batch)
        remove_entities(session, batch)
        counts["deleted"] += len(batch)
        for entity_id in batch:
            yield ChangeRow("replace", entity_id, before=before[entity_id], after=None)


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
        into = redirects.target(session, entity_id)
        if into is not None:
            raise NotFound(f"entity {entity_id!r} was merged into {into!r}: edit {into!r}")
        raise NotFound(f"no entity with id {entity_id!r}")
    return entity


def _check_not_merged(session: Session, entity_ids: list[str]) -> None:
    """Refuse to make an entity of a merged entity's ID: it leads to its survivor."""
    merged: dict[str, str] = {}
    for chunk in batches(entity_ids, 500):  # under the databases' bound-parameter limits
        merged.update(redirects.targets(session, chunk))
    if merged:
        entity_id, into = min(merged.items())
        raise Conflict(
            f"entity {entity_id!r} was merged into {into!r}, and its ID leads there: "
            f"revert the merge in the history to bring it back, or choose another ID"
        )


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

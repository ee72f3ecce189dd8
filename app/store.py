"""The curated table in the database: every read and every edit.

Each editing function owns its transaction (``app.audit.edit``): it commits,
or changes nothing. Every commit raises the table revision by one and records
each entity it touched, with its state before and after, in the history;
other processes watch that revision to refresh their index
(``app.live_index``). With ``dry_run`` an edit runs and is rolled back, and
raises :class:`app.audit.WouldChange` saying what it would have changed.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import Connection, Executable, delete, func, insert, or_, update
from sqlalchemy import select as select_columns  # more columns than sqlmodel's select takes
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import declared_types, redirects
from app.audit import ChangeRow, Edit, edit
from app.audit import current_revision as current_revision
from app.audit import hold_write_lock as hold_write_lock
from app.db import bulk_writing, insert_rows
from app.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from app.etags import IfMatch, etag_of
from app.forms import held_by_several, owners_of, refuse_shared
from app.matching.index import EntityRecord
from app.models.api import (
    AliasCreate,
    AliasFile,
    AliasFileSource,
    AliasPublic,
    AliasUpdate,
    EntityCreate,
    EntityList,
    EntityPublic,
    EntityUpdate,
    ImportReport,
    SharedForm,
)
from app.models.fields import MAX_ALIASES
from app.models.tables import Alias, Change, Entity, EntityRedirect, utcnow
from app.normal_forms import form_key, normalize
from app.states import (
    PARAMETER_CHUNK,
    alias_state,
    batches,
    chunks,
    entity_state,
    read_state,
    read_states,
    remove_entities,
)

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
    entity_types: Sequence[str] | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> EntityList:
    """Entities by ID, filtered by types (any of them) and by a text found in a
    name, alias or ID."""
    conditions = []
    if entity_types:
        declared_types.check_filter(session=session, entity_types=entity_types)
        wanted = {kind.casefold() for kind in entity_types}
        conditions.append(func.lower(Entity.type).in_(wanted))
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
    """The entities whose ID is ``q``, or whose name or an alias holds it, both
    compared in their normal forms: in any script and either database alike
    (SQLite's own case-insensitive match knows only ASCII letters)."""
    text, key = q.strip(), normalize(q)
    found = [col(Entity.id) == text]
    if key:  # punctuation alone has no normal form, and would match every name
        by_alias = select(Alias.entity_id).where(
            col(Alias.normalized).contains(key, autoescape=True)
        )
        found.append(col(Entity.normalized_name).contains(key, autoescape=True))
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


def alias_count(*, session: Session) -> int:
    """How many aliases the table holds: what an index build's work grows with."""
    return session.exec(select(func.count()).select_from(Alias)).one()


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
    # Rows of no entity are the whole table's (a large replace) or name none of
    # the index's entities (declared types, review decisions).
    whole_table = any(r is None and action == WHOLE_TABLE_ACTION for r, action in rows)
    return ChangeSet(revision=newest, entity_ids=ids, whole_table=whole_table)


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
    entity_query = select_columns(
        col(Entity.id),
        col(Entity.name),
        col(Entity.type),
        col(Entity.prominence),
        col(Entity.description),
    )
    alias_query = select(Alias.entity_id, Alias.text, Alias.case_sensitive).order_by(col(Alias.id))
    if entity_ids is not None:
        wanted = list(entity_ids)
        entity_query = entity_query.where(col(Entity.id).in_(wanted))
        alias_query = alias_query.where(col(Alias.entity_id).in_(wanted))
    connection = session.connection()
    aliases: dict[str, list[str]] = {}
    case_rules: dict[str, list[tuple[str, bool]]] = {}
    for entity_id, text, case_sensitive in _driver_rows(connection, alias_query):
        found = aliases.get(entity_id)
        if found is None:
            aliases[entity_id] = [text]
        else:
            found.append(text)
        if case_sensitive is not None:  # SQLite's driver gives 0 or 1
            case_rules.setdefault(entity_id, []).append((text, bool(case_sensitive)))
    return [
        EntityRecord(
            i,
            name,
            kind,
            tuple(aliases.pop(i, ())),
            tuple(case_rules.get(i, ())),
            prominence,
            description,
        )
        for i, name, kind, prominence, description in _driver_rows(connection, entity_query)
    ]


# Rows fetched from the driver at a time, by ``_driver_rows``.
_DRIVER_ROWS_AT_ONCE = 10_000


def _driver_rows(connection: Connection, query: Executable) -> Iterator[Sequence[Any]]:
    """The rows of ``query`` as the database's driver gives them, not as
    SQLAlchemy's rows: a start-up reads a million, a fifth faster so. A query
    with parameters (a list of ids) is left to SQLAlchemy to bind."""
    compiled = query.compile(dialect=connection.dialect)  # type: ignore[attr-defined]
    if compiled.params:
        yield from connection.execute(query)
        return
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled))
        while rows := cursor.fetchmany(_DRIVER_ROWS_AT_ONCE):
            yield from rows
    finally:
        cursor.close()


# --- editing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AliasEdit:
    """An alias as an edit left it, and its entity's state after the edit."""

    alias: AliasPublic
    entity: EntityPublic


def create_entity(
    *,
    session: Session,
    actor: str,
    data: EntityCreate,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> EntityPublic:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        if session.get(Entity, data.id) is not None:
            raise Conflict(f"entity {data.id!r} already exists")
        _check_not_merged(session, [data.id])
        declared_types.check_entity_type(session=session, entity_type=data.type)
        # The request's model holds the limit; an entity made with one alias more
        # (an accepted review form) is checked here.
        _check_alias_count(data.id, len(data.aliases))
        refuse_shared(session, data.id, _texts_of(data), allow_shared=allow_shared)
        _insert_entity(session, data)
        return _recorded(current, session, "create", data.id, before=None)


def update_entity(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    data: EntityUpdate,
    if_match: IfMatch | None = None,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> EntityPublic:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _entity_for_write(session, entity_id, if_match)
        before = read_state(session, entity_id)
        changes = data.model_dump(exclude_unset=True)
        if all(getattr(entity, field) == value for field, value in changes.items()):
            # Nothing to change ({} too): nothing recorded, no new revision.
            return EntityPublic.model_validate(before)
        if changes.get("type") is not None:
            declared_types.check_entity_type(session=session, entity_type=changes["type"])
        name = changes.get("name")
        if name is not None:
            _check_form_is_new(entity, name, what="name")
            if normalize(name) != entity.normalized_name:
                refuse_shared(session, entity_id, [name], allow_shared=allow_shared)
        _set_fields(entity, changes)
        entity.updated_at = utcnow()
        return _recorded(current, session, "update", entity_id, before=before)


def delete_entity(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    if_match: IfMatch | None = None,
    dry_run: bool = False,
) -> None:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _entity_for_write(session, entity_id, if_match)
        _check_no_merged_lead_to(session, [entity_id])
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
    if_match: IfMatch | None = None,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> AliasEdit:
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _entity_for_write(session, entity_id, if_match)
        _check_form_is_new(entity, data.text, what="alias")
        _check_alias_count(entity_id, len(entity.aliases) + 1)
        refuse_shared(session, entity_id, [data.text], allow_shared=allow_shared)
        before = read_state(session, entity_id)
        alias = _new_alias(entity_id, data)
        session.add(alias)
        entity.updated_at = utcnow()
        after = _recorded(current, session, "add_alias", entity_id, before=before)
        return _alias_edit(alias, after)


def update_alias(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    alias_id: int,
    data: AliasUpdate,
    if_match: IfMatch | None = None,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> AliasEdit:
    """Change an alias's text, note or case rule; its id stays."""
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _entity_for_write(session, entity_id, if_match)
        alias = _find_alias(session, entity_id, alias_id)
        before = read_state(session, entity_id)
        changes = data.model_dump(exclude_unset=True)
        text = changes.get("text")
        if text is not None and text != alias.text:
            _check_form_is_new(entity, text, what="alias", besides=alias_id)
            if normalize(text) != alias.normalized:
                refuse_shared(session, entity_id, [text], allow_shared=allow_shared)
        _set_alias_fields(alias, {**_alias_fields(alias), **changes})
        entity.updated_at = utcnow()
        after = _recorded(current, session, "update_alias", entity_id, before=before)
        return _alias_edit(alias, after)


def delete_alias(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    alias_id: int,
    if_match: IfMatch | None = None,
    dry_run: bool = False,
) -> EntityPublic:
    """Remove an alias; the entity as it is left."""
    with edit(session, actor=actor, dry_run=dry_run) as current:
        entity = _entity_for_write(session, entity_id, if_match)
        alias = _find_alias(session, entity_id, alias_id)
        before = read_state(session, entity_id)
        session.delete(alias)
        entity.updated_at = utcnow()
        return _recorded(current, session, "delete_alias", entity_id, before=before)


def _recorded(
    current: Edit, session: Session, action: str, entity_id: str, *, before: dict[str, Any] | None
) -> EntityPublic:
    """Record the entity's change, from ``before`` to its rows now; the entity now."""
    session.flush()
    after = read_state(session, entity_id)
    current.record([ChangeRow(action, entity_id, before=before, after=after)])
    return EntityPublic.model_validate(after)


def merge_entity(
    *,
    session: Session,
    actor: str,
    entity_id: str,
    into: str,
    if_match: IfMatch | None = None,
    dry_run: bool = False,
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
        _entity_for_write(session, entity_id, if_match)
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
        _check_alias_count(into, len(after[into]["aliases"]))
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


def _alias_edit(alias: Alias, entity: EntityPublic) -> AliasEdit:
    return AliasEdit(alias=AliasPublic.model_validate(alias, from_attributes=True), entity=entity)


def _entity_for_write(session: Session, entity_id: str, if_match: IfMatch | None) -> Entity:
    """The entity, found as the editor last saw it.

    Read inside the edit, which holds the write lock from its start: of two
    editors sending the same ETag, the second finds it stale.
    """
    entity = _find_entity(session, entity_id)
    if if_match is not None:
        current = etag_of(_to_public(entity))
        if not if_match.matches(current):
            raise PreconditionFailed(
                f"entity {entity_id!r} has changed since that ETag was read: "
                f"its current ETag is {current}",
                etag=current,
            )
    return entity


def _find_alias(session: Session, entity_id: str, alias_id: int) -> Alias:
    alias = session.get(Alias, alias_id)
    if alias is None or alias.entity_id != entity_id:
        raise NotFound(f"entity {entity_id!r} has no alias with id {alias_id}")
    return alias


def _texts_of(entry: EntityCreate) -> list[str]:
    return [entry.name, *(alias.text for alias in entry.aliases)]


# What an import report counts.
_COUNTS = ("created", "updated", "deleted", "aliases_added", "aliases_deleted")
# Entities stored per round of an import: the memory an import holds is bounded
# by this, not by the size of the file.
IMPORT_BATCH = 1000
# Forms a refused import names, at most: enough to see the pattern, not a flood.
SHARED_LISTED = 20
# Past this many entities changed by a replace, other processes rebuild their
# index whole rather than apply each change to it: the replace records a row of
# this action for the whole table.
WHOLE_TABLE_AFTER = 1000
WHOLE_TABLE_ACTION = "replace"


def import_table(
    *,
    session: Session,
    actor: str,
    table: AliasFile,
    mode: ImportMode,
    allow_empty: bool = False,
    allow_shared: bool = False,
) -> ImportReport:
    """Load an alias file in one transaction (see ``import_alias_file``)."""
    return import_alias_file(
        session=session,
        actor=actor,
        source=table,
        mode=mode,
        allow_empty=allow_empty,
        allow_shared=allow_shared,
    )


def import_alias_file(
    *,
    session: Session,
    actor: str,
    source: AliasFileSource,
    mode: ImportMode,
    allow_empty: bool = False,
    allow_shared: bool = False,
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
        allow_shared=allow_shared,
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
    allow_shared: bool = False,
    batch_size: int = IMPORT_BATCH,
    before_commit: Callable[[], list[ChangeRow]] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Store entries as they come, ``batch_size`` at a time, in one transaction.

    ``merge`` adds the file's entities, updates the fields that the file gives
    of those that exist (a field the file omits is kept) and adds the aliases
    they lack; ``replace`` makes the table exactly the file's content, changing
    only what differs: unchanged aliases keep their ids. A file that changes
    nothing commits nothing, and the report gives the current revision.

    If ``entries`` raises half-way (a fault found late in a streamed file),
    nothing is stored. A file of no entities empties the table only with
    ``allow_empty``: an empty body is far likelier a mistake. A form that the
    import makes shared by several entities, when it was not, is refused
    unless ``allow_shared``. History gets a row per entity created, updated or
    deleted, written batch by batch. ``before_commit`` does the checks and
    writes that need every entry stored; the history rows it gives are
    recorded with the others.
    """
    counts = dict.fromkeys(_COUNTS, 0)
    seen: set[str] = set()  # a replace deletes the entities the file lacks
    sharing = _SharingCheck(session, mode, enabled=not allow_shared)
    action = "import" if mode == "merge" else "replace"
    writing = edit(session, actor=actor, dry_run=dry_run)
    with writing as current, bulk_writing(session.connection()):
        for batch in batches(entries, batch_size):
            seen.update(entry.id for entry in batch)
            sharing.check(batch)
            current.record(_store_batch(session, batch, mode, action, counts))
            session.expunge_all()  # flushed: the entities merged need not stay in memory
        if mode == "replace":
            _refuse_to_empty_by_mistake(seen, allow_empty)
            current.record(_delete_absent(session, seen, counts))
        sharing.refuse_what_is_left()
        if before_commit is not None:
            current.record(before_commit())
        if mode == "replace" and current.recorded > WHOLE_TABLE_AFTER:
            # Many entities changed: other processes rebuild their index whole.
            current.record([ChangeRow(WHOLE_TABLE_ACTION, None, detail={"entities": len(seen)})])
    return ImportReport(mode=mode, entities=len(seen), revision=current.revision, **counts)


def _refuse_to_empty_by_mistake(seen: set[str], allow_empty: bool) -> None:
    """``Conflict`` for a replace by a file of no entities, unless ``allow_empty``."""
    if not seen and not allow_empty:
        raise Conflict(
            "the file has no entities, so a replace would delete every entity: "
            "send allow_empty=true (over HTTP) or --allow-empty (alias-service import) "
            "to empty the table on purpose"
        )


def _store_batch(
    session: Session,
    batch: list[EntityCreate],
    mode: ImportMode,
    action: str,
    counts: dict[str, int],
) -> list[ChangeRow]:
    """Add the new entities, bring those that exist up to the file; their history rows."""
    _check_not_merged(session, [entry.id for entry in batch])
    before = read_states(session, [entry.id for entry in batch])
    existing = _existing_entities(session, [entry.id for entry in batch if entry.id in before])
    new = [entry for entry in batch if entry.id not in before]
    update = _merge_into if mode == "merge" else _replace_into
    updated = []
    for entry in batch:
        entity = existing.get(entry.id)
        if entity is None:
            continue
        diff = update(session, entity, entry)
        if diff:
            entity.updated_at = utcnow()
            updated.append(entry.id)
            counts["aliases_added"] += diff.aliases_added
            counts["aliases_deleted"] += diff.aliases_deleted
    after = _bulk_insert(session, new)
    counts["created"] += len(new)
    counts["updated"] += len(updated)
    counts["aliases_added"] += sum(len(entry.aliases) for entry in new)
    session.flush()
    after.update(read_states(session, updated))
    return [
        ChangeRow(action, entity_id, before=before.get(entity_id), after=after[entity_id])
        for entity_id in [*(entry.id for entry in new), *updated]
    ]


class _SharingCheck:
    """The forms an import makes shared: held by one entity or none before it, by several after.

    Checked a batch at a time, before the batch is written: the owners after
    it are the owners before it and the batch's entities that hold the form.
    A replace may yet take a form from an entity (a later batch, or the
    entities deleted at the end), so it looks again at the end, keeping at
    most ``_REPLACE_CANDIDATES`` forms; a merge stops at the first ``SHARED_LISTED``.
    """

    _REPLACE_CANDIDATES = 10_000

    def __init__(self, session: Session, mode: ImportMode, *, enabled: bool) -> None:
        self.session = session
        self.enabled = enabled
        self.limit = SHARED_LISTED if mode == "merge" else self._REPLACE_CANDIDATES
        self.found: list[SharedForm] = []

    def check(self, batch: list[EntityCreate]) -> None:
        if not self.enabled:
            return
        holders: dict[str, set[str]] = {}
        for entry in batch:
            for text in _texts_of(entry):
                holders.setdefault(normalize(text), set()).add(entry.id)
        before = owners_of(self.session, holders)
        after = {form: ids | before.get(form, set()) for form, ids in holders.items()}
        self.found += [s for s in held_by_several(after) if len(before.get(s.form, ())) <= 1]
        if len(self.found) >= self.limit:
            raise Conflict(_shared_detail(self.found, complete=False))

    def refuse_what_is_left(self) -> None:
        if not self.enabled:
            return
        if self.limit != SHARED_LISTED:  # a replace: some owners may be gone since
            self.found = held_by_several(owners_of(self.session, [s.form for s in self.found]))
        if self.found:
            raise Conflict(_shared_detail(self.found, complete=True))


def _shared_detail(shared: list[SharedForm], *, complete: bool) -> str:
    listed = "; ".join(
        f"{s.form!r} by {', '.join(map(repr, s.entity_ids))}" for s in shared[:SHARED_LISTED]
    )
    count = f"{len(shared)} form{'s' * (len(shared) != 1)}"
    count = count if complete else f"at least {count}"
    first = f" (the first {SHARED_LISTED})" if len(shared) > SHARED_LISTED or not complete else ""
    return (
        f"the import would make {count} shared by several entities, so that their "
        f"mentions become ambiguous{first}: {listed}. Send allow_shared=true (over HTTP) "
        "or --allow-shared (alias-service import) to import them all the same"
    )


@dataclass(slots=True)
class _EntityDiff:
    """What an import changed of one stored entity."""

    fields: list[str]
    aliases_added: int = 0
    aliases_updated: int = 0
    aliases_deleted: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.fields or self.aliases_added or self.aliases_updated or self.aliases_deleted
        )


def _merge_into(session: Session, entity: Entity, entry: EntityCreate) -> _EntityDiff:
    """Bring ``entity`` up to ``entry``: the fields it gives, the aliases it adds,
    and the note or case rule it gives an alias the entity has already.

    A field the entry omits is kept: absent is not cleared.
    """
    given = {k: v for k, v in _entity_fields(entry).items() if k in entry.model_fields_set}
    diff = _EntityDiff(fields=_set_fields(entity, given))
    known = {form_key(alias.text): alias for alias in reversed(entity.aliases)}
    for alias in entry.aliases:
        stored = known.get(form_key(alias.text))
        if stored is None:
            session.add(_new_alias(entity.id, alias))
            diff.aliases_added += 1
            continue
        changed = {
            field: getattr(alias, field)
            for field in _ALIAS_DETAILS & alias.model_fields_set
            if getattr(stored, field) != getattr(alias, field)
        }
        if changed:
            _set_alias_fields(stored, changed)
            diff.aliases_updated += 1
    _check_alias_count(entity.id, len(entity.aliases) + diff.aliases_added)
    return diff


# What a merge import sets of an alias the entity has already, where the file gives it.
_ALIAS_DETAILS = frozenset({"note", "case_sensitive"})


def _replace_into(session: Session, entity: Entity, entry: EntityCreate) -> _EntityDiff:
    """Make ``entity`` exactly ``entry``; the aliases that stay keep their ids."""
    diff = _EntityDiff(fields=_set_fields(entity, _entity_fields(entry)))
    stored = _StoredAliases(list(entity.aliases))
    for wanted in entry.aliases:
        alias = stored.claim(wanted.text)
        if alias is None:
            session.add(_new_alias(entity.id, wanted))
            diff.aliases_added += 1
        elif _alias_fields(alias) != _alias_fields(wanted):
            _set_alias_fields(alias, _alias_fields(wanted))
            diff.aliases_updated += 1
    for alias in stored.unclaimed():
        session.delete(alias)
        diff.aliases_deleted += 1
    return diff


class _StoredAliases:
    """An entity's stored aliases, each to be claimed by the alias of the file it is:
    of the same normal form, else of the same form key (TLP is T.L.P.), else of
    the same text."""

    def __init__(self, aliases: list[Alias]) -> None:
        self.all = aliases
        self.claimed: set[int] = set()
        self.lookups: list[tuple[Callable[[str], str], dict[str, list[Alias]]]] = []
        for key in (normalize, form_key, str):
            found: dict[str, list[Alias]] = {}
            for alias in aliases:
                found.setdefault(key(alias.text), []).append(alias)
            self.lookups.append((key, found))

    def claim(self, text: str) -> Alias | None:
        for key, found in self.lookups:
            for alias in found.get(key(text), ()):
                if id(alias) not in self.claimed:
                    self.claimed.add(id(alias))
                    return alias
        return None

    def unclaimed(self) -> list[Alias]:
        return [alias for alias in self.all if id(alias) not in self.claimed]


def _delete_absent(session: Session, seen: set[str], counts: dict[str, int]) -> Iterator[ChangeRow]:
    """Delete the entities a replace's file lacks (their aliases go with them), a page
    at a time; their history rows as they go."""
    for absent in _entities_absent(session, seen):
        _check_no_merged_lead_to(session, absent)
        before = read_states(session, absent)
        counts["aliases_deleted"] += sum(len(state["aliases"]) for state in before.values())
        remove_entities(session, absent)
        counts["deleted"] += len(absent)
        yield from (ChangeRow("replace", i, before=before[i], after=None) for i in absent)


def _entities_absent(session: Session, seen: set[str]) -> Iterator[list[str]]:
    """The IDs of the stored entities not in ``seen``, read a page at a time by ID."""
    after = ""
    while True:
        page = session.exec(
            select(Entity.id)
            .where(col(Entity.id) > after)
            .order_by(col(Entity.id))
            .limit(PARAMETER_CHUNK)
        ).all()
        if not page:
            return
        after = page[-1]
        absent = [entity_id for entity_id in page if entity_id not in seen]
        if absent:
            yield absent


def _existing_entities(session: Session, ids: list[str]) -> dict[str, Entity]:
    found: dict[str, Entity] = {}
    for chunk in chunks(ids):
        query = select(Entity).where(col(Entity.id).in_(chunk))
        for entity in session.exec(query.options(selectinload(Entity.aliases))):  # type: ignore[arg-type]
            found[entity.id] = entity
    return found


def _bulk_insert(session: Session, entries: list[EntityCreate]) -> dict[str, dict[str, Any]]:
    """Insert many new entities with their aliases; the states they have now
    (as ``read_states`` would read them back): each entry as it was written,
    with the ids its aliases were given."""
    now = utcnow()
    entities = [
        {"id": e.id, **_entity_columns(e), "created_at": now, "updated_at": now} for e in entries
    ]
    aliases = [_alias_row(e.id, a) for e in entries for a in e.aliases]
    session.flush()
    # Rows, not the ORM's bulk path: nothing here needs the objects back.
    connection = session.connection()
    insert_rows(connection, Entity.__table__, entities)  # type: ignore[attr-defined]
    ids = iter(_insert_aliases(connection, aliases) if aliases else [])
    alias_ids = {e.id: list(islice(ids, len(e.aliases))) for e in entries}
    return {
        e.id: entity_state(
            e.id,
            e,
            [alias_state(i, a) for i, a in zip(alias_ids.get(e.id, ()), e.aliases, strict=True)],
        )
        for e in entries
    }


def _insert_aliases(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert alias rows (``_alias_row``); the ids they were given, in their order.

    On SQLite, by the driver's ``executemany``: SQLAlchemy would prepare each
    row's parameters in Python first, a quarter of the time a large import
    takes to insert its aliases, and their values (text, booleans and None)
    need no preparing. Each row takes the id after the largest ever given
    (``AUTOINCREMENT``), and no other connection writes meanwhile: the ids
    are those that end at the last one given, in the rows' order.

    On PostgreSQL, by ``COPY`` (``db.insert_rows``), with ids drawn from the
    table's sequence first (other transactions draw from it too), rising in
    the rows' order.
    """
    if connection.dialect.name == "postgresql":
        table = Alias.__table__  # type: ignore[attr-defined]
        sequence = func.pg_get_serial_sequence(table.name, "id")
        drawn = select_columns(func.nextval(sequence)).select_from(
            func.generate_series(1, len(rows))
        )
        ids = sorted(connection.execute(drawn).scalars())
        insert_rows(connection, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    statement = insert(Alias.__table__)  # type: ignore[attr-defined]
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(rows[0]))
    # Each row's values in the statement's order (a tuple: there are several).
    values = list(map(itemgetter(*compiled.positiontup or ()), rows))
    connection.exec_driver_sql(str(compiled), values)
    last = int(connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    return list(range(last - len(rows) + 1, last + 1))


def _insert_entity(session: Session, data: EntityCreate) -> Entity:
    entity = Entity(id=data.id, **_entity_columns(data))
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


def _entity_columns(entity: EntityCreate) -> dict[str, Any]:
    """The stored columns of a new entity: its fields and its name's normal form."""
    return {**_entity_fields(entity), "normalized_name": normalize(entity.name)}


def _set_fields(entity: Entity, fields: dict[str, Any]) -> list[str]:
    """Set the fields that differ, the name's normal form with the name; their names."""
    changed = [key for key, value in fields.items() if getattr(entity, key) != value]
    for key in changed:
        setattr(entity, key, fields[key])
    if "name" in changed:
        entity.normalized_name = normalize(entity.name)
    return changed


def _new_alias(entity_id: str, alias: AliasCreate) -> Alias:
    return Alias(**_alias_row(entity_id, alias))


def _alias_row(entity_id: str, alias: AliasCreate) -> dict[str, Any]:
    """The stored columns of a new alias: its fields and its normal form."""
    return {"entity_id": entity_id, "normalized": normalize(alias.text), **_alias_fields(alias)}


def _alias_fields(alias: AliasCreate | Alias) -> dict[str, Any]:
    return {"text": alias.text, "note": alias.note, "case_sensitive": alias.case_sensitive}


def _set_alias_fields(alias: Alias, fields: dict[str, Any]) -> None:
    """Set an alias's fields, its normal form with its text."""
    for key, value in fields.items():
        setattr(alias, key, value)
    alias.normalized = normalize(alias.text)


def _check_alias_count(entity_id: str, count: int) -> None:
    """Refuse an edit that would leave an entity more aliases than an entity may
    have: its export could not be imported again."""
    if count > MAX_ALIASES:
        raise Conflict(
            f"entity {entity_id!r} would have {count:,} aliases; "
            f"an entity has at most {MAX_ALIASES:,}"
        )


def _check_form_is_new(entity: Entity, text: str, *, what: str, besides: int | None = None) -> None:
    """Refuse a form the entity has already (but in alias ``besides``, the one edited)."""
    key = form_key(text)
    if what == "alias" and form_key(entity.name) == key:
        raise Conflict(f"{text!r} is the name of entity {entity.id!r} once normalised")
    for alias in entity.aliases:
        if alias.id != besides and form_key(alias.text) == key:
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


def _check_no_merged_lead_to(session: Session, entity_ids: list[str]) -> None:
    """Refuse to delete an entity that merged entities' IDs lead to: they would lead
    nowhere, or to whatever entity took the ID next."""
    for chunk in chunks(entity_ids):
        query = select(EntityRedirect.id, EntityRedirect.into).where(
            col(EntityRedirect.into).in_(chunk)
        )
        found = session.exec(query.order_by(col(EntityRedirect.id)).limit(10)).all()
        if found:
            into = found[0][1]
            merged = [merged for merged, leads_to in found if leads_to == into]
            raise Conflict(
                f"entities {', '.join(map(repr, merged))} were merged into {into!r}, and "
                f"their IDs lead to it: revert those merges first, or merge {into!r} into "
                "another entity instead of deleting it"
            )


def _check_not_merged(session: Session, entity_ids: list[str]) -> None:
    """Refuse to make an entity of a merged entity's ID: it leads to its survivor."""
    merged: dict[str, str] = {}
    for chunk in chunks(entity_ids):
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

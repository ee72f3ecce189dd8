"""Reading the history of changes, and undoing an edit.

Every edit is recorded as a row per entity it touched, under one revision
(``app.audit``). A revert undoes a whole edit: each entity it touched goes
back to its state before, which is safe only while each is still as the
edit left it. The revert is an edit itself, so it is in the history and can
be reverted in turn.
"""

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func
from sqlmodel import Session, col, select

from app import declared_types, review_queue
from app.audit import ChangeRow, Edit, edit
from app.errors import Conflict, DomainError, NotFound
from app.forms import owners_of
from app.models.api import ChangePublic, HistoryPage, RevertReport
from app.models.fields import MAX_STORED_INT
from app.models.tables import Change
from app.states import (
    PARAMETER_CHUNK,
    State,
    batches,
    chunks,
    is_entity,
    new_forms,
    read_states,
    restore,
)

# A revert rewrites each entity in one transaction: past this many, restore
# an export instead (the edit is likely a whole replace import).
MAX_REVERTED_ENTITIES = 10_000
MAX_LISTED_REVERTED = 100
_MAX_NAMED_CHANGES = 10
_CURSOR = re.compile(r"c([0-9]{1,10})")


def list_changes(
    *,
    session: Session,
    entity_id: str | None = None,
    editor: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> HistoryPage:
    """Changes newest first, filtered; a page's ``next`` as ``cursor`` gives the
    page after it. A page ends early once its changes' states pass PAGE_BYTES."""
    query = select(Change.id)
    if entity_id is not None:
        query = query.where(Change.entity_id == entity_id)
    if editor is not None:
        query = query.where(Change.actor == editor)
    if since is not None:
        query = query.where(Change.at >= _aware(since))
    if cursor is not None:
        query = query.where(col(Change.id) < decode_cursor(cursor))
    ids = session.exec(query.order_by(col(Change.id).desc()).limit(limit + 1)).all()
    page: list[ChangePublic] = []
    size = 0
    # Read a few at a time: one change of an entity with thousands of long aliases
    # holds tens of MB, and a page of 500 such would hold gigabytes.
    for batch in batches(ids[:limit], _ROWS_AT_ONCE):
        rows = select(Change).where(col(Change.id).in_(batch)).order_by(col(Change.id).desc())
        for row in session.exec(rows).all():
            size += len(orjson.dumps([row.before, row.after, row.detail]))
            if page and size > PAGE_BYTES:
                return HistoryPage(changes=page, next=encode_cursor(page[-1].id))
            page.append(change_public(row))
    more = len(ids) > limit
    return HistoryPage(changes=page, next=encode_cursor(page[-1].id) if more else None)


# The states one page of the history holds, at most (one change, however large, always).
PAGE_BYTES = 16 * 2**20
_ROWS_AT_ONCE = 10


def _aware(moment: datetime) -> datetime:
    """The time in UTC, the zone history records in; one without a zone is UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within a day of year 1 or year 9999: before or after every change
        edge = datetime.min if moment.year == 1 else datetime.max
        return edge.replace(tzinfo=UTC)


def encode_cursor(change_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{change_id}".encode()).decode().rstrip("=")


class InvalidCursor(DomainError, ValueError):
    """A cursor no page gave (a ValueError too, so that a query parameter's check is a 422)."""


def decode_cursor(cursor: str) -> int:
    """The change ID a cursor stands for."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    found = _CURSOR.fullmatch(text)
    if found is None or not 0 < int(found[1]) <= MAX_STORED_INT:
        raise InvalidCursor("not a cursor from a page of the history")
    return int(found[1])


def change_public(row: Change) -> ChangePublic:
    return ChangePublic(
        id=row.id or 0,
        revision=row.revision,
        at=row.at,
        editor=row.actor,
        action=row.action,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        reverts=row.reverts,
        detail=row.detail or None,
    )


def revert(
    *,
    session: Session,
    actor: str,
    change_id: int,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> RevertReport:
    """Undo the edit that change ``change_id`` belongs to, as a new edit.

    404 for an unknown change; 409 when the edit was reverted already, was
    recorded without states, is too large, or when an entity it touched was
    changed since (naming those changes), or when what it brings back would
    share a form with an entity changed since (unless ``allow_shared``); 422 when
    it would bring back a type no longer declared. Nothing is written then,
    nor with ``dry_run``: ``WouldChange`` says what the revert would change.
    """
    with edit(session, actor=actor, dry_run=dry_run) as current:
        target = session.get(Change, change_id)
        if target is None:
            raise NotFound(f"no change with id {change_id}")
        of_no_entity = _rows_of_no_entity(session, target)
        # Review decisions (a dismissal, or a revert of one) are undone alone.
        decisions = [row for row in of_no_entity if "review_item" in row.detail]
        if decisions:
            return _revert_dismissals(session, current, target, decisions, actor=actor)
        types = [row for row in of_no_entity if declared_types.is_types_change(row.detail)]
        rows = _rows_to_revert(session, target, types_changed=bool(types))
        now = read_states(session, [row.entity_id for row in rows if row.entity_id])
        _check_unchanged_since(session, target, rows, now)
        # The types first: what the entities bring back is held to the types restored.
        _restore_types(session, current, target, types)
        restored = {row.entity_id: row.before for row in rows if row.entity_id}
        restore(session, restored, revision=current.revision)
        _check_restored(session, target, now, restored, allow_shared=allow_shared)
        if types:  # entities the edit did not touch may have a type it declared
            declared_types.check_table(session=session)
        current.record(
            ChangeRow("revert", row.entity_id, before=row.after, after=row.before, reverts=row.id)
            for row in rows
            if row.entity_id
        )
        return _reverted(session, current, total=len(rows) + len(types))


def _rows_of_no_entity(session: Session, target: Change) -> list[Change]:
    """The rows of the edit of ``target`` that name no entity: the declared
    types, review decisions, a large replace's row for the whole table."""
    rows = select(Change).where(Change.revision == target.revision, col(Change.entity_id).is_(None))
    return list(session.exec(rows.order_by(col(Change.id))).all())


def _restore_types(session: Session, current: Edit, target: Change, rows: list[Change]) -> None:
    """The declared types as they were before the edit (409 if changed since)."""
    _check_not_reverted(session, target, rows)
    for row in reversed(rows):
        try:
            declared_types.restore_declared(session=session, change=row.detail)
        except Conflict as refused:
            raise Conflict(f"change {target.id} cannot be reverted: {refused.detail}") from None
        undone = {"before": row.detail["after"], "after": row.detail["before"]}
        current.record([ChangeRow("revert", None, detail=undone, reverts=row.id)])


def _reverted(session: Session, current: Edit, *, total: int) -> RevertReport:
    """What a revert recorded: its revision and its first changes."""
    session.flush()
    recorded = session.exec(
        select(Change)
        .where(Change.revision == current.revision)
        .order_by(col(Change.id))
        .limit(MAX_LISTED_REVERTED)
    ).all()
    return RevertReport(
        revision=current.revision,
        total=total,
        changes=[change_public(row) for row in recorded],
    )


def _revert_dismissals(
    session: Session, current: Edit, target: Change, decisions: list[Change], *, actor: str
) -> RevertReport:
    """Open the dismissed forms again, as they were before; or dismiss again the
    forms a revert opened (409 if decided since)."""
    _check_not_reverted(session, target, decisions)
    for row in decisions:
        item_id = row.detail["review_item"]
        if row.action == review_queue.DISMISS_ACTION:
            review_queue.reopen(session=session, item_id=item_id, status=row.detail["status"])
        else:
            review_queue.dismiss_again(session=session, item_id=item_id, actor=actor)
    current.record(
        ChangeRow("revert", None, detail=row.detail, reverts=row.id) for row in decisions
    )
    return _reverted(session, current, total=len(decisions))


def _check_restored(
    session: Session,
    target: Change,
    now: dict[str, dict[str, Any]],
    restored: dict[str, State],
    *,
    allow_shared: bool,
) -> None:
    """Hold what a revert brings back to the rules of an edit made today: types that
    are declared, and no form shared with an entity that took it since the edit."""
    for entity_type in sorted({s["type"] for s in restored.values() if is_entity(s)}):
        declared_types.check_entity_type(session=session, entity_type=entity_type)
    if allow_shared:
        return
    gained = {i: forms for i, s in restored.items() if (forms := new_forms(now.get(i), s))}
    owners = owners_of(session, {form for forms in gained.values() for form in forms})
    others = {o for ids in owners.values() for o in ids} - set(restored)
    # Sharing as it stood when the edit was made is brought back as it was; an
    # entity changed since may have taken the form after the edit.
    since = set(
        session.exec(
            select(Change.entity_id)
            .where(col(Change.entity_id).in_(sorted(others)[:PARAMETER_CHUNK]))
            .where(Change.revision > target.revision)
        ).all()
    )
    taken = sorted(
        (form, entity_id, sorted(owners.get(form, set()) & since))
        for entity_id, forms in gained.items()
        for form in forms
        if owners.get(form, set()) & since
    )
    if taken:
        named = "; ".join(
            f"{form!r} of {e!r} is held by {', '.join(map(repr, o))}" for form, e, o in taken[:20]
        )
        raise Conflict(
            f"the revert would share forms with entities changed since: {named}; "
            "send allow_shared=true to share them all the same"
        )


# What to do instead of reverting an edit that changed no entity's state.
_INSTEAD = {"revert": "make the change again"}


def _rows_to_revert(session: Session, target: Change, *, types_changed: bool) -> list[Change]:
    """The edit's rows of entities, once it is known that it can be undone at
    all (``types_changed``: it changed the declared types, which are undone
    apart)."""
    edit_rows = select(Change).where(Change.revision == target.revision)
    touched = edit_rows.where(col(Change.entity_id).is_not(None))
    count = session.exec(select(func.count()).select_from(touched.subquery())).one()
    if count > MAX_REVERTED_ENTITIES:
        raise Conflict(
            f"change {target.id} belongs to an edit of {count:,} entities; a revert undoes "
            f"at most {MAX_REVERTED_ENTITIES:,}: import an export from before it instead"
        )
    rows = list(session.exec(touched.order_by(col(Change.id))).all())
    if not rows and not types_changed:
        instead = _INSTEAD.get(target.action, "it cannot be reverted")
        raise Conflict(f"change {target.id} ({target.action}) changed no entity: {instead}")
    if any(row.before is None and row.after is None for row in rows):
        raise Conflict(
            f"change {target.id} was recorded before history kept entities' states: "
            "it cannot be reverted"
        )
    _check_not_reverted(session, target, rows)
    return rows


def _check_not_reverted(session: Session, target: Change, rows: list[Change]) -> None:
    for batch in chunks([row.id for row in rows]):
        undone = session.exec(
            select(Change.id).where(col(Change.reverts).in_(batch)).order_by(col(Change.id))
        ).first()
        if undone is not None:
            raise Conflict(f"change {target.id} was already reverted by change {undone}")


def _check_unchanged_since(
    session: Session, target: Change, rows: list[Change], now: dict[str, dict[str, object]]
) -> None:
    """Refuse unless each entity is as the edit left it; name the changes since."""
    moved = [row.entity_id for row in rows if row.entity_id and now.get(row.entity_id) != row.after]
    if not moved:
        return
    later = session.exec(
        select(Change)
        .where(
            col(Change.entity_id).in_(moved[:PARAMETER_CHUNK]), Change.revision > target.revision
        )
        .order_by(col(Change.id))
        .limit(_MAX_NAMED_CHANGES)
    ).all()
    named = "; ".join(f"change {c.id} ({c.action} of {c.entity_id!r} by {c.actor})" for c in later)
    raise Conflict(
        f"change {target.id} cannot be reverted: {', '.join(map(repr, moved[:10]))} changed "
        f"since, by {named or 'changes recorded without their states'}"
    )

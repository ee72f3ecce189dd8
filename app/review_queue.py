"""The review queue in the database: forms that live traffic left unresolved.

Each process counts such mentions in memory (``app.review``) and adds its
counts here in batches, as increments, so that workers and replicas add up.
Editors list the queue, accept a form (as an alias of an entity, or a new
entity) or dismiss it. A form the table now matches is marked ``resolved``
when the queue is listed, and opens again if traffic leaves it unresolved
again (an alias deleted since).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any

from pydantic import ValidationError
from sqlalchemy import case, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app import store
from app.audit import ChangeRow, edit, hold_write_lock
from app.errors import Conflict, InvalidInput, NotFound
from app.matching.index import AliasIndex
from app.matching.normalize import form_key
from app.matching.resolve import Status, Thresholds, resolve
from app.models.api import AliasCreate, EntityCreate, ReviewAccept, ReviewItemPublic, ReviewList
from app.models.tables import ReviewItem, ReviewStatus, utcnow
from app.states import chunks

# A decided form stays decided; the others may still be.
UNDECIDED: tuple[ReviewStatus, ...] = ("open", "resolved")
# Rows written per statement by a flush.
UPSERT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Tally:
    """What one process saw of one form since its last flush."""

    form: str
    example: str
    count: int
    first_seen: datetime
    last_seen: datetime
    candidates: tuple[tuple[str, float], ...]  # (entity ID, score), best first; () if unknown


# --- counting -----------------------------------------------------------------------


def record(*, session: Session, tallies: Sequence[Tally]) -> None:
    """Add the tallies to the stored counts, creating the forms not seen before.

    In form order, so that concurrent flushes lock rows in one order. A tally
    without candidates keeps the ones stored.
    """
    ordered = sorted(tallies, key=lambda t: t.form)
    for with_candidates in (True, False):
        rows = [_row(t) for t in ordered if bool(t.candidates) == with_candidates]
        for start in range(0, len(rows), UPSERT_BATCH):
            batch = rows[start : start + UPSERT_BATCH]
            session.execute(_upsert(session, with_candidates=with_candidates), batch)
    session.commit()


def _row(tally: Tally) -> dict[str, Any]:
    return {
        "form": tally.form,
        "example": tally.example,
        "count": tally.count,
        "status": "open",
        "first_seen": tally.first_seen,
        "last_seen": tally.last_seen,
        "candidates": [{"id": i, "score": round(s, 4)} for i, s in tally.candidates],
    }


def _upsert(session: Session, *, with_candidates: bool) -> Any:
    """INSERT ... ON CONFLICT (form) DO UPDATE, adding the counts, in the session's dialect."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ReviewItem.__table__  # type: ignore[attr-defined]
    statement = dialect.insert(table)
    new, stored = statement.excluded, table.c
    changes = {
        "count": stored.count + new.count,
        "first_seen": case(
            (new.first_seen < stored.first_seen, new.first_seen), else_=stored.first_seen
        ),
        "last_seen": case(
            (new.last_seen > stored.last_seen, new.last_seen), else_=stored.last_seen
        ),
        # Left unresolved again: the alias that resolved it (or was accepted for it,
        # then reverted) has gone.
        # (No IN: a list parameter cannot go in a statement run for many rows.)
        "status": case(
            (or_(stored.status == "resolved", stored.status == "accepted"), "open"),
            else_=stored.status,
        ),
    }
    if with_candidates:
        changes["candidates"] = new.candidates
    return statement.on_conflict_do_update(index_elements=[stored.form], set_=changes)


def open_count(*, session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(ReviewItem).where(col(ReviewItem.status) == "open")
    ).one()


# --- listing -------------------------------------------------------------------------

# Open forms one listing resolves against the index at most: the work of a
# request stays bounded however many forms an import has answered since.
MAX_SCANNED = 5000


def list_items(
    *,
    session: Session,
    index: AliasIndex,
    thresholds: Thresholds,
    status: ReviewStatus = "open",
    limit: int = 50,
) -> ReviewList:
    """The forms of a status, the most frequent first.

    Open forms that ``index`` matches now are left out and marked resolved:
    an alias added since (by an import, say) has answered them.
    """
    query = select(ReviewItem).where(col(ReviewItem.status) == status)
    query = query.order_by(col(ReviewItem.count).desc(), col(ReviewItem.id))
    if status != "open":
        return ReviewList(items=[_public(i) for i in session.exec(query.limit(limit))])
    listed: list[ReviewItem] = []
    resolved: list[int] = []
    for scanned, item in enumerate(_pages(session, query, size=max(limit, 50)), start=1):
        if _matched(index, item.example, thresholds):
            resolved.append(item.id or 0)
        else:
            listed.append(item)
        if len(listed) == limit or scanned == MAX_SCANNED:
            break  # the next listing goes on past the forms marked resolved now
    _mark_resolved(session, resolved)
    return ReviewList(items=[_public(i) for i in listed])


def _pages(session: Session, query: Any, *, size: int) -> Iterator[ReviewItem]:
    """The rows of ``query``, read a page at a time as they are wanted."""
    for offset in count(0, size):
        rows = session.exec(query.offset(offset).limit(size)).all()
        yield from rows
        if len(rows) < size:
            return


def _matched(index: AliasIndex, example: str, thresholds: Thresholds) -> bool:
    return resolve(index, example, thresholds=thresholds, limit=1).status is Status.MATCHED


def _mark_resolved(session: Session, ids: list[int]) -> None:
    if not ids:
        return
    for chunk in chunks(ids):
        session.exec(
            update(ReviewItem)
            .where(col(ReviewItem.id).in_(chunk), col(ReviewItem.status) == "open")
            .values(status="resolved")
        )
    session.commit()


# --- deciding --------------------------------------------------------------------------


def accept(
    *,
    session: Session,
    actor: str,
    item_id: int,
    decision: ReviewAccept,
    dry_run: bool = False,
) -> ReviewItemPublic:
    """Add the form's example to the table: an alias of ``decision.entity_id``, or
    among the names of ``decision.new_entity``; the history records it as that edit.

    The row is marked accepted in the transaction that adds the alias or the
    entity, so both happen or neither. The table's write lock is taken first,
    as every edit takes it, so that an accept and a dismissal of one form wait
    for each other instead of each holding what the other wants. An accepted
    form that traffic leaves unresolved again (the alias reverted) opens again.
    With ``dry_run`` nothing is written: ``WouldChange`` says what would be.
    """
    try:
        hold_write_lock(session=session)
        item = _decide(session, item_id, actor=actor, status="accepted")
        example = _example_alias(item)
        if decision.new_entity is not None:
            entity = _with_example(decision.new_entity, example)
            item.entity_id = entity.id
            store.create_entity(session=session, actor=actor, data=entity, dry_run=dry_run)
        elif decision.entity_id is not None:
            item.entity_id = decision.entity_id
            store.add_alias(
                session=session,
                actor=actor,
                entity_id=decision.entity_id,
                data=example,
                dry_run=dry_run,
            )
    except BaseException:
        session.rollback()
        raise
    return _public(item)


# The history's action of a dismissal; a revert of it opens the form again.
DISMISS_ACTION = "review_dismiss"


def dismiss(*, session: Session, actor: str, item_id: int) -> ReviewItemPublic:
    """Hide the form from the open list; it goes on being counted.

    The history keeps the decision (``DISMISS_ACTION``), so a revert of it
    opens the form again.
    """
    item = _find(session, item_id)
    if item.status == "dismissed":
        return _public(item)
    with edit(session, actor=actor) as current:
        status = item.status
        item = _decide(session, item_id, actor=actor, status="dismissed")
        detail = {"review_item": item_id, "form": item.form, "status": status}
        current.record([ChangeRow(DISMISS_ACTION, None, detail=detail)])
    return _public(item)


def dismiss_again(*, session: Session, item_id: int, actor: str) -> None:
    """Redo a dismissal that a revert undid (409 if the form was decided since)."""
    _decide(session, item_id, actor=actor, status="dismissed")


def reopen(*, session: Session, item_id: int, status: str) -> None:
    """Undo a dismissal: the form is ``status`` again (open, or resolved), undecided."""
    reopened = session.exec(
        update(ReviewItem)
        .where(col(ReviewItem.id) == item_id, col(ReviewItem.status) == "dismissed")
        .values(status=status, decided_by=None, decided_at=None)
    )
    if not reopened.rowcount:
        now = session.get(ReviewItem, item_id)
        raise Conflict(
            f"review item {item_id} is no longer dismissed"
            + (f": it is {now.status}" if now is not None else "")
        )


def _decide(session: Session, item_id: int, *, actor: str, status: ReviewStatus) -> ReviewItem:
    """Mark an undecided row, uncommitted; the row stays locked until the commit,
    so that a concurrent decision waits for this one and then finds it decided."""
    decided = session.exec(
        update(ReviewItem)
        .where(col(ReviewItem.id) == item_id, col(ReviewItem.status).in_(UNDECIDED))
        .values(status=status, decided_by=actor, decided_at=utcnow())
    )
    item = _find(session, item_id)
    session.refresh(item)
    if not decided.rowcount:
        raise Conflict(f"review item {item_id} is {item.status} already")
    return item


def _find(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"no review item with id {item_id}")
    return item


def _example_alias(item: ReviewItem) -> AliasCreate:
    try:
        return AliasCreate(
            text=item.example, note=f"from the review queue, seen {item.count} times"
        )
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise InvalidInput(f"the example {item.example!r} cannot be an alias: {reason}") from None


def _with_example(entity: EntityCreate, example: AliasCreate) -> EntityCreate:
    """The entity with the example among its aliases, unless it has its form already."""
    forms = {form_key(entity.name), *(form_key(a.text) for a in entity.aliases)}
    if form_key(example.text) in forms:
        return entity
    return entity.model_copy(update={"aliases": [*entity.aliases, example]})


def _public(item: ReviewItem) -> ReviewItemPublic:
    return ReviewItemPublic.model_validate(item, from_attributes=True)

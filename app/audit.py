"""The table revision, and the history that every edit records under it.

An edit is one transaction (``edit``). It takes the revision row's lock
first, so that writers go one at a time and the edit's revision is known
from its start; it records a row per entity it touched, with the entity's
state before and after (``app.states``), in batches as it goes, so that an
import's rows are never all in memory; and it commits. As a dry run it rolls
back instead and raises :class:`WouldChange` with what it would have done.
Other processes watch the revision to refresh their index
(``app.live_index``).
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import insert_rows
from app.errors import Conflict
from app.forms import shared_forms
from app.models.api import ChangePreview, EditReport, TableChangePreview
from app.models.tables import Change, TableState, utcnow
from app.states import State, batches, is_entity, new_forms

T = TypeVar("T")

# History rows per statement: an import records one per entity.
RECORD_BATCH = 1000
# How much of an edit a dry run lists.
MAX_LISTED_IDS = 1000
MAX_LISTED_CHANGES = 100
MAX_LISTED_FORMS = 100


def current_revision(*, session: Session) -> int:
    return session.exec(select(TableState.revision).where(TableState.id == 1)).one()


def hold_write_lock(*, session: Session) -> None:
    """Take the lock every edit takes first (the revision row), until the session ends."""
    session.exec(
        update(TableState).where(col(TableState.id) == 1).values(revision=TableState.revision)
    )


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One entity's part in an edit (``entity_id`` None: the whole table)."""

    action: str
    entity_id: str | None
    before: State = None
    after: State = None
    reverts: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class WouldChange(Exception):
    """A dry run's end: the edit was rolled back; ``report`` says what it would have done."""

    def __init__(self, report: EditReport) -> None:
        super().__init__("dry run: nothing was written")
        self.report = report


def result_or_report(run_edit: Callable[[], T]) -> T | EditReport:
    """What an edit returns, or, for a dry run, what it would have changed."""
    try:
        return run_edit()
    except WouldChange as dry_run:
        return dry_run.report


class Edit:
    """An open edit: its revision, and where its history rows go."""

    def __init__(self, session: Session, actor: str, preview: "_Preview | None") -> None:
        self._session = session
        self._actor = actor
        self._preview = preview
        self._at = utcnow()
        # The row lock taken here also puts concurrent writers in one order.
        session.exec(
            update(TableState)
            .where(col(TableState.id) == 1)
            .values(revision=TableState.revision + 1)
        )
        self.revision = current_revision(session=session)
        self.recorded = 0

    def record(self, rows: Iterable[ChangeRow]) -> None:
        # Rows inserted batch by batch (``db.insert_rows``, not the ORM's bulk
        # path, which would inspect each row again): an import records a row
        # per entity.
        table = Change.__table__  # type: ignore[attr-defined]
        for batch in batches(rows, RECORD_BATCH):
            self.recorded += len(batch)
            insert_rows(self._session.connection(), table, [self._values(row) for row in batch])
            if self._preview is not None:
                self._preview.add(batch)

    def _values(self, row: ChangeRow) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "at": self._at,
            "actor": self._actor,
            "action": row.action,
            "entity_id": row.entity_id,
            "detail": row.detail,
            "before": row.before,
            "after": row.after,
            "reverts": row.reverts,
        }


@contextmanager
def edit(session: Session, *, actor: str, dry_run: bool = False) -> Iterator[Edit]:
    """One edit in one transaction: committed when the block ends, rolled back if it raises.

    An edit that recorded no change (an import of what is stored) is rolled
    back instead, and its ``revision`` is the current one: no new revision.

    A conflict with the stored rows (a unique form, an ID) is :class:`Conflict`.
    With ``dry_run`` the block runs all the same, then is rolled back, and
    :class:`WouldChange` is raised.
    """
    preview = _Preview(session) if dry_run else None
    try:
        opened = Edit(session, actor, preview)
        yield opened
        session.flush()
        if preview is None and not opened.recorded:
            # Nothing changed (an import of what is stored): no new revision.
            session.rollback()
            opened.revision -= 1
            return
        if preview is None:
            session.commit()
            return
        report = preview.report(revision=opened.revision - 1)
    except IntegrityError as error:
        session.rollback()
        raise Conflict(f"the change conflicts with the stored table: {error.orig}") from None
    except BaseException:
        session.rollback()
        raise
    session.rollback()
    raise WouldChange(report)


class _Preview:
    """What a dry run's edit did, gathered as it records, within the listing bounds."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._report = EditReport(revision=0)

    def add(self, rows: list[ChangeRow]) -> None:
        new_forms_by_entity: dict[str, set[str]] = {}
        for row in rows:
            if row.entity_id is None:  # the declared types, a review item, the whole table
                if len(self._report.table_changes) < MAX_LISTED_CHANGES:
                    preview = TableChangePreview(action=row.action, detail=row.detail)
                    self._report.table_changes.append(preview)
                continue
            self._count(row, row.entity_id)
            forms = new_forms(row.before, row.after)
            if forms:
                new_forms_by_entity[row.entity_id] = forms
        if new_forms_by_entity and len(self._report.shared_forms) < MAX_LISTED_FORMS:
            found = shared_forms(self._session, new_forms_by_entity)
            room = MAX_LISTED_FORMS - len(self._report.shared_forms)
            self._report.shared_forms.extend(found[:room])

    def _count(self, row: ChangeRow, entity_id: str) -> None:
        kind = _kind_of_change(row.before, row.after)
        if kind is not None:
            counts = self._report.counts
            setattr(counts, kind, getattr(counts, kind) + 1)
            listed: list[str] = getattr(self._report, kind)
            if len(listed) < MAX_LISTED_IDS:
                listed.append(entity_id)
        if len(self._report.changes) < MAX_LISTED_CHANGES:
            self._report.changes.append(
                ChangePreview(
                    entity_id=entity_id, action=row.action, before=row.before, after=row.after
                )
            )

    def report(self, *, revision: int) -> EditReport:
        self._report.revision = revision
        return self._report


def _kind_of_change(before: State, after: State) -> str | None:
    """created, deleted or updated, for the table's entities; None when only a merged
    entity's redirect moved (a merge into the entity it led to)."""
    if is_entity(before) and is_entity(after):
        return "updated"
    if is_entity(after):
        return "created"
    if is_entity(before):
        return "deleted"
    return None

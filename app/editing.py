"""The one write path: an edit, its history, and this process's index, together.

Each function is one edit an editor makes. It calls the store (which commits
the edit and its history in one transaction, or nothing) and brings this
process's index up to date before returning, so that the change resolves as
soon as the request has returned; other processes catch up on their own
(``app.live_index``). With ``dry_run`` the edit runs and is rolled back, and
the answer is what it would have changed (:class:`EditReport`).
"""

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from app import history, review_queue, store
from app.audit import result_or_report
from app.etags import IfMatch
from app.heap import give_back_free_memory
from app.live_index import LiveIndex
from app.models.api import (
    AliasCreate,
    AliasFileSource,
    AliasUpdate,
    EditReport,
    EntityCreate,
    EntityPublic,
    EntityUpdate,
    ImportReport,
    RevertReport,
    ReviewAccept,
    ReviewItemPublic,
)

T = TypeVar("T")


def create_entity(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    data: EntityCreate,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> EntityPublic | EditReport:
    return _applied(
        live,
        lambda: store.create_entity(
            session=session, actor=editor, data=data, allow_shared=allow_shared, dry_run=dry_run
        ),
    )


def update_entity(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    entity_id: str,
    data: EntityUpdate,
    if_match: IfMatch | None = None,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> EntityPublic | EditReport:
    return _applied(
        live,
        lambda: store.update_entity(
            session=session,
            actor=editor,
            entity_id=entity_id,
            data=data,
            if_match=if_match,
            allow_shared=allow_shared,
            dry_run=dry_run,
        ),
    )


def delete_entity(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    entity_id: str,
    if_match: IfMatch | None = None,
    dry_run: bool = False,
) -> EditReport | None:
    return _applied(
        live,
        lambda: store.delete_entity(
            session=session, actor=editor, entity_id=entity_id, if_match=if_match, dry_run=dry_run
        ),
    )


def add_alias(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    entity_id: str,
    data: AliasCreate,
    if_match: IfMatch | None = None,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> store.AliasEdit | EditReport:
    return _applied(
        live,
        lambda: store.add_alias(
            session=session,
            actor=editor,
            entity_id=entity_id,
            data=data,
            if_match=if_match,
            allow_shared=allow_shared,
            dry_run=dry_run,
        ),
    )


def update_alias(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    entity_id: str,
    alias_id: int,
    data: AliasUpdate,
    if_match: IfMatch | None = None,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> store.AliasEdit | EditReport:
    return _applied(
        live,
        lambda: store.update_alias(
            session=session,
            actor=editor,
            entity_id=entity_id,
            alias_id=alias_id,
            data=data,
            if_match=if_match,
            allow_shared=allow_shared,
            dry_run=dry_run,
        ),
    )


def delete_alias(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    entity_id: str,
    alias_id: int,
    if_match: IfMatch | None = None,
    dry_run: bool = False,
) -> EntityPublic | EditReport:
    return _applied(
        live,
        lambda: store.delete_alias(
            session=session,
            actor=editor,
            entity_id=entity_id,
            alias_id=alias_id,
            if_match=if_match,
            dry_run=dry_run,
        ),
    )


def merge_entity(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    entity_id: str,
    into: str,
    if_match: IfMatch | None = None,
    dry_run: bool = False,
) -> EntityPublic | EditReport:
    return _applied(
        live,
        lambda: store.merge_entity(
            session=session,
            actor=editor,
            entity_id=entity_id,
            into=into,
            if_match=if_match,
            dry_run=dry_run,
        ),
    )


def import_alias_file(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    source: AliasFileSource,
    mode: store.ImportMode,
    allow_empty: bool = False,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> ImportReport | EditReport:
    return _applied(
        live,
        lambda: store.import_alias_file(
            session=session,
            actor=editor,
            source=source,
            mode=mode,
            allow_empty=allow_empty,
            allow_shared=allow_shared,
            dry_run=dry_run,
        ),
        wrote_much=True,
    )


def revert(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    change_id: int,
    allow_shared: bool = False,
    dry_run: bool = False,
) -> RevertReport | EditReport:
    return _applied(
        live,
        lambda: history.revert(
            session=session,
            actor=editor,
            change_id=change_id,
            allow_shared=allow_shared,
            dry_run=dry_run,
        ),
    )


def accept_review(
    *,
    session: Session,
    live: LiveIndex,
    editor: str,
    item_id: int,
    decision: ReviewAccept,
    dry_run: bool = False,
) -> ReviewItemPublic | EditReport:
    return _applied(
        live,
        lambda: review_queue.accept(
            session=session, actor=editor, item_id=item_id, decision=decision, dry_run=dry_run
        ),
    )


def dismiss_review(
    *, session: Session, live: LiveIndex, editor: str, item_id: int
) -> ReviewItemPublic:
    item = review_queue.dismiss(session=session, actor=editor, item_id=item_id)
    live.refresh()
    return item


def _applied(
    live: LiveIndex, run_edit: Callable[[], T], *, wrote_much: bool = False
) -> T | EditReport:
    """The edit's result once this process's index has it; a dry run's report.

    After an edit that may write much (an import), the memory its writing
    freed goes back to the system before the index takes in the change,
    which for a large import is a rebuild held beside the index serving.
    """
    result = result_or_report(run_edit)
    if not isinstance(result, EditReport):
        if wrote_much:
            give_back_free_memory()
        live.refresh()
    return result

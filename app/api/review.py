"""The review queue: mentions live traffic left unresolved, for editors to decide."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app import editing, review_queue
from app.api.deps import (
    ADMIN_RESPONSES,
    DryRunQuery,
    EditorDep,
    LiveIndexDep,
    SessionDep,
    SnapshotDep,
    ThresholdsDep,
    require_admin,
)
from app.api.responses import documented
from app.models.api import EditReport, ReviewAccept, ReviewItemPublic, ReviewList
from app.models.fields import MAX_STORED_INT
from app.models.tables import ReviewStatus

router = APIRouter(
    prefix="/admin/review",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_RESPONSES,
)

ItemId = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="The review item's `id`.")]
_NOT_FOUND = documented(404, s404="No review item has this ID.")


@router.get(
    "", operation_id="listReviewItems", summary="List the review queue", response_model=ReviewList
)
def list_review(
    session: SessionDep,
    index: SnapshotDep,
    rule: ThresholdsDep,
    status: Annotated[ReviewStatus, Query(description="Which forms.")] = "open",
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 50,
) -> ReviewList:
    """The mentions `/resolve`, `/reconcile` and `/annotate` left unmatched or
    ambiguous, and the capitalised names `/annotate` found no entity for,
    counted by normal form, the most frequent first. Counts are written every
    few seconds. An open form the table matches now is left out and marked
    `resolved`."""
    return review_queue.list_items(
        session=session,
        index=index,
        thresholds=rule,
        status=status,
        limit=limit,
    )


@router.post(
    "/{item_id}/accept",
    operation_id="acceptReviewItem",
    summary="Accept a form as an alias, or as a new entity",
    response_model=ReviewItemPublic | EditReport,
    responses=documented(
        400,
        404,
        409,
        422,
        s404="No review item, or no entity `entity_id`, has this ID.",
        s409="The item is accepted or dismissed already, the entity has the form already, "
        "another entity has it (accepting would make it shared), or `new_entity`'s ID "
        "exists or was merged into another entity.",
        s422="The body is malformed (give `entity_id` or `new_entity`, not both), "
        "or the example cannot be an alias.",
    ),
)
def accept(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    item_id: ItemId,
    body: ReviewAccept,
    dry_run: DryRunQuery = False,
) -> ReviewItemPublic | EditReport:
    """`{"entity_id": ...}` adds the form's example as an alias of that entity;
    `{"new_entity": {...}}` creates the entity with the example among its
    names. The mention resolves as soon as this returns. With `dry_run=true`
    the answer is what the accept would change, and nothing is written."""
    return editing.accept_review(
        session=session, live=live, editor=editor, item_id=item_id, decision=body, dry_run=dry_run
    )


@router.post(
    "/{item_id}/dismiss",
    operation_id="dismissReviewItem",
    summary="Dismiss a form",
    response_model=ReviewItemPublic,
    responses={**_NOT_FOUND, **documented(409, s409="The item is accepted already.")},
)
def dismiss(
    session: SessionDep, live: LiveIndexDep, editor: EditorDep, item_id: ItemId
) -> ReviewItemPublic:
    """Hide the form from the open list. It goes on being counted. The history keeps the
    decision, and a revert of it (`POST /admin/history/{id}/revert`) opens the form again."""
    return editing.dismiss_review(session=session, live=live, editor=editor, item_id=item_id)

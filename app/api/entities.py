"""Browse the curated table."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app import store
from app.api.deps import EntityIdPath, SessionDep
from app.api.responses import documented, with_etag
from app.etags import etag_of
from app.models import MAX_STORED_INT, MAX_TYPE_LENGTH, PRINTABLE_PATTERN, EntityList, EntityPublic

router = APIRouter(prefix="/entities", tags=["entities"], responses=documented(422, 503))


@router.get("", summary="List entities", response_model=EntityList)
def list_entities(
    session: SessionDep,
    type: Annotated[
        str | None,
        Query(max_length=MAX_TYPE_LENGTH, pattern=PRINTABLE_PATTERN, description="Only this type."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=512,
            pattern=PRINTABLE_PATTERN,
            description="Text found in the ID, name or an alias.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0,
) -> EntityList:
    """Entities ordered by ID, with their aliases, a page at a time."""
    return store.list_entities(session=session, entity_type=type, q=q, limit=limit, offset=offset)


@router.get(
    "/{entity_id}",
    summary="One entity with its aliases",
    response_model=EntityPublic,
    responses={**documented(404, s404="No entity has this ID."), **with_etag(200)},
)
def get_entity(session: SessionDep, entity_id: EntityIdPath, response: Response) -> EntityPublic:
    """The entity and its aliases; each alias has the `id` that deleting it takes.

    `ETag` is the entity's version: any change to it or its aliases changes it.
    Sent back as `If-Match` with an edit, the edit is made only to this version.
    """
    entity = store.get_entity(session=session, entity_id=entity_id)
    response.headers["ETag"] = etag_of(entity)
    return entity

"""Browse the curated table."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from app import store
from app.api.deps import EntityIdPath, SessionDep, TypeQuery, TypesQuery
from app.api.responses import Responses, documented, with_etag
from app.etags import etag_of
from app.matching.type_names import requested_types
from app.models.api import EntityList, EntityPublic
from app.models.fields import MAX_STORED_INT, PRINTABLE_PATTERN

router = APIRouter(prefix="/entities", tags=["entities"], responses=documented(422, 503))


@router.get("", operation_id="listEntities", summary="List entities", response_model=EntityList)
def list_entities(
    session: SessionDep,
    type: TypeQuery = None,
    types: TypesQuery = None,
    q: Annotated[
        str | None,
        Query(
            max_length=512,
            pattern=PRINTABLE_PATTERN,
            description="The ID, or text found in the name or an alias (compared in "
            "their normal forms: case, accents and punctuation aside).",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_STORED_INT)] = 0,
) -> EntityList:
    """Entities ordered by ID, with their aliases, a page at a time."""
    return store.list_entities(
        session=session,
        entity_types=requested_types(type, types),
        q=q,
        limit=limit,
        offset=offset,
    )


_MERGED: Responses = {
    308: {
        "description": "The entity was merged into another: `Location` is that entity's "
        "address, with the query string kept.",
        "headers": {
            "Location": {
                "description": "`/entities/{the entity it was merged into}`",
                "schema": {"type": "string"},
            }
        },
    }
}


@router.get(
    "/{entity_id}",
    operation_id="getEntity",
    summary="One entity with its aliases",
    response_model=EntityPublic,
    responses={**_MERGED, **documented(404, s404="No entity has this ID."), **with_etag(200)},
)
def get_entity(
    request: Request, session: SessionDep, entity_id: EntityIdPath, response: Response
) -> Any:
    """The entity and its aliases; each alias has the `id` that deleting it takes.

    `ETag` is the entity's version: any change to it or its aliases changes it.
    Sent back as `If-Match` with an edit, the edit is made only to this version.
    The ID of an entity merged into another answers 308 to that entity,
    however many merges followed.
    """
    found = store.entity_or_redirect(session=session, entity_id=entity_id)
    if isinstance(found, store.MergedInto):
        return RedirectResponse(_address(request, found.entity_id), status_code=308)
    response.headers["ETag"] = etag_of(found)
    return found


def _address(request: Request, entity_id: str) -> str:
    """The entity's path under this service, with the request's query string."""
    path = f"{request.scope.get('root_path', '')}{router.prefix}/{entity_id}"
    return f"{path}?{request.url.query}" if request.url.query else path

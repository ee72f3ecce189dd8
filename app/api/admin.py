"""Edit the curated table (bearer token required)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app import store
from app.aliasfile import dump_alias_file, read_alias_file
from app.api.deps import ActorDep, LiveIndexDep, SessionDep, require_admin
from app.models import (
    AliasCreate,
    AliasPublic,
    EntityCreate,
    EntityPublic,
    EntityUpdate,
    ErrorDetail,
    ImportReport,
)

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDetail, "description": "No bearer token."},
    403: {"model": ErrorDetail, "description": "Not the admin token."},
    503: {"model": ErrorDetail, "description": "The service has no ADMIN_TOKEN configured."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "No entity (or alias) has this ID."}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorDetail, "description": "The ID or the alias exists already."}
}

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={**_AUTH_ERRORS, 422: {"model": ErrorDetail}},
)


@router.post(
    "/entities",
    summary="Add an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityPublic,
    responses=_CONFLICT,
)
def create_entity(
    session: SessionDep, live: LiveIndexDep, actor: ActorDep, body: EntityCreate
) -> EntityPublic:
    """Add an entity with its aliases; it resolves as soon as this returns."""
    entity = store.create_entity(session=session, actor=actor, data=body)
    live.refresh()
    return entity


@router.patch(
    "/entities/{entity_id}",
    summary="Change an entity's name, type, description or prominence",
    response_model=EntityPublic,
    responses={**_NOT_FOUND, **_CONFLICT},
)
def update_entity(
    session: SessionDep, live: LiveIndexDep, actor: ActorDep, entity_id: str, body: EntityUpdate
) -> EntityPublic:
    """Only the fields sent change; `null` removes a description or a prominence."""
    entity = store.update_entity(session=session, actor=actor, entity_id=entity_id, data=body)
    live.refresh()
    return entity


@router.delete(
    "/entities/{entity_id}",
    summary="Delete an entity and its aliases",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def delete_entity(session: SessionDep, live: LiveIndexDep, actor: ActorDep, entity_id: str) -> None:
    """The entity and all its aliases are gone; the audit trail keeps the record."""
    store.delete_entity(session=session, actor=actor, entity_id=entity_id)
    live.refresh()


@router.post(
    "/entities/{entity_id}/aliases",
    summary="Add an alias to an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=AliasPublic,
    responses={**_NOT_FOUND, **_CONFLICT},
)
def add_alias(
    session: SessionDep, live: LiveIndexDep, actor: ActorDep, entity_id: str, body: AliasCreate
) -> AliasPublic:
    """A new surface form; 409 when the entity has it already (after normalisation)."""
    alias = store.add_alias(session=session, actor=actor, entity_id=entity_id, data=body)
    live.refresh()
    return alias


@router.delete(
    "/entities/{entity_id}/aliases/{alias_id}",
    summary="Remove an alias",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_NOT_FOUND,
)
def delete_alias(
    session: SessionDep, live: LiveIndexDep, actor: ActorDep, entity_id: str, alias_id: int
) -> None:
    """Remove one alias (its `id` is listed by `GET /entities/{entity_id}`)."""
    store.delete_alias(session=session, actor=actor, entity_id=entity_id, alias_id=alias_id)
    live.refresh()


async def _alias_file_body(request: Request) -> tuple[bytes, str]:
    return await request.body(), request.headers.get("content-type", "application/yaml")


_ALIAS_FILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "An alias file, as `aliases.yaml` or its JSON equivalent.",
        "content": {
            "application/yaml": {
                "schema": {"type": "string"},
                "example": "entities:\n  - id: ttp\n    name: Tehreek-e-Taliban Pakistan\n"
                "    type: organization\n    aliases:\n      - TTP\n",
            },
            "application/json": {"schema": {"type": "object", "required": ["entities"]}},
        },
    }
}


@router.post(
    "/import",
    summary="Import an alias file",
    response_model=ImportReport,
    openapi_extra=_ALIAS_FILE_BODY,
    responses={413: {"model": ErrorDetail, "description": "The file is too large."}},
)
def import_file(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    body: Annotated[tuple[bytes, str], Depends(_alias_file_body)],
    mode: Annotated[
        store.ImportMode, Query(description="merge adds; replace makes the table the file.")
    ] = "merge",
) -> ImportReport:
    """Load a whole file in one transaction: all of it, or nothing when any entry is invalid."""
    raw, media_type = body
    entries = read_alias_file(raw, media_type=media_type)
    report = store.import_entities(session=session, actor=actor, entries=entries, mode=mode)
    live.refresh()
    return report


@router.get(
    "/export",
    summary="Export the table as an alias file",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}, "description": "The alias file."}},
)
def export_file(session: SessionDep) -> Response:
    """The whole table in the alias-file format; importing it with `replace` gives it back."""
    text = dump_alias_file(store.export_table(session=session))
    return Response(text, media_type="application/yaml; charset=utf-8")

"""Edit the curated table (bearer token required)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app import store
from app.aliasfile import dump_alias_file, read_alias_file
from app.api.deps import ActorDep, EntityIdPath, LiveIndexDep, SessionDep, require_admin
from app.api.responses import documented
from app.errors import DomainError
from app.models import (
    MAX_STORED_INT,
    AliasCreate,
    AliasPublic,
    EntityCreate,
    EntityPublic,
    EntityUpdate,
    ImportReport,
)

_NOT_FOUND = documented(404)
_CONFLICT = documented(409)
_JSON_BODY = documented(400)

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=documented(
        401,
        403,
        422,
        503,
        s503="The service has no ADMIN_TOKEN configured, or its database is not usable.",
    ),
)


@router.post(
    "/entities",
    summary="Add an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityPublic,
    responses={**_JSON_BODY, **_CONFLICT},
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
    responses={**_JSON_BODY, **_NOT_FOUND, **_CONFLICT},
)
def update_entity(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    entity_id: EntityIdPath,
    body: EntityUpdate,
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
def delete_entity(
    session: SessionDep, live: LiveIndexDep, actor: ActorDep, entity_id: EntityIdPath
) -> None:
    """The entity and all its aliases are gone; the audit trail keeps the record."""
    store.delete_entity(session=session, actor=actor, entity_id=entity_id)
    live.refresh()


@router.post(
    "/entities/{entity_id}/aliases",
    summary="Add an alias to an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=AliasPublic,
    responses={**_JSON_BODY, **_NOT_FOUND, **_CONFLICT},
)
def add_alias(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    entity_id: EntityIdPath,
    body: AliasCreate,
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
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    entity_id: EntityIdPath,
    alias_id: Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="The alias's `id`.")],
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
    responses=documented(
        400,
        409,
        413,
        s400="A replace without `confirm=true`.",
        s409="A replace with no entities, without `allow_empty=true`; "
        "or the file conflicts with the stored table.",
        s413="The file is larger than the import limit.",
    ),
)
def import_file(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    body: Annotated[tuple[bytes, str], Depends(_alias_file_body)],
    mode: Annotated[
        store.ImportMode, Query(description="merge adds; replace makes the table the file.")
    ] = "merge",
    confirm: Annotated[
        bool, Query(description="Needed by `replace`, which deletes what the file lacks.")
    ] = False,
    allow_empty: Annotated[
        bool, Query(description="Let a `replace` with a file of no entities empty the table.")
    ] = False,
) -> ImportReport:
    """Load a whole file in one transaction: all of it, or nothing when any entry is invalid.

    `replace` needs `confirm=true`; with a file of no entities it also needs
    `allow_empty=true`, as it would delete every entity.
    """
    if mode == "replace" and not confirm:
        raise DomainError(
            "a replace import deletes every entity the file lacks: add confirm=true to do it"
        )
    raw, media_type = body
    source = read_alias_file(raw, media_type=media_type)
    report = store.import_alias_file(
        session=session, actor=actor, source=source, mode=mode, allow_empty=allow_empty
    )
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

"""Edit the curated table (bearer token required)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app import store
from app.aliasfile import dump_alias_file, read_alias_file
from app.api.deps import (
    ActorDep,
    AllowSharedQuery,
    EntityIdPath,
    IfMatchDep,
    LiveIndexDep,
    SessionDep,
    require_admin,
)
from app.api.responses import documented, with_etag
from app.errors import DomainError
from app.etags import etag_of
from app.models import (
    MAX_STORED_INT,
    AliasCreate,
    AliasPublic,
    AliasUpdate,
    EntityCreate,
    EntityPublic,
    EntityUpdate,
    ImportReport,
)

_NOT_FOUND = documented(404)
_CONFLICT = documented(409)
_JSON_BODY = documented(400)
_SHARED = documented(
    409,
    s409="The ID or the form exists already: the entity has it, or another entity "
    "(named in `detail`) has it and `allow_shared` is not true.",
)
# Edits of one entity: If-Match may be malformed (400) or stale (412).
_CONDITIONAL = {
    **documented(
        400,
        404,
        412,
        s400="The body could not be read (it is not UTF-8 text), or If-Match is no ETag.",
    )
}
AliasIdPath = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="The alias's `id`.")]

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


def _tag(response: Response, entity: EntityPublic) -> None:
    response.headers["ETag"] = etag_of(entity)


@router.post(
    "/entities",
    summary="Add an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityPublic,
    responses={**_JSON_BODY, **_SHARED, **with_etag(201)},
)
def create_entity(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    body: EntityCreate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
) -> EntityPublic:
    """Add an entity with its aliases; it resolves as soon as this returns.

    A name or alias that another entity has already is refused (409), unless
    `allow_shared=true`.
    """
    entity = store.create_entity(session=session, actor=actor, data=body, allow_shared=allow_shared)
    live.refresh()
    _tag(response, entity)
    return entity


@router.patch(
    "/entities/{entity_id}",
    summary="Change an entity's name, type, description or prominence",
    response_model=EntityPublic,
    responses={**_CONDITIONAL, **_SHARED, **with_etag(200)},
)
def update_entity(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    body: EntityUpdate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
) -> EntityPublic:
    """Only the fields sent change; `null` removes a description or a prominence.

    A new name that another entity has already is refused (409), unless
    `allow_shared=true`.
    """
    entity = store.update_entity(
        session=session,
        actor=actor,
        entity_id=entity_id,
        data=body,
        if_match=if_match,
        allow_shared=allow_shared,
    )
    live.refresh()
    _tag(response, entity)
    return entity


@router.delete(
    "/entities/{entity_id}",
    summary="Delete an entity and its aliases",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_CONDITIONAL,
)
def delete_entity(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
) -> None:
    """The entity and all its aliases are gone; the audit trail keeps the record."""
    store.delete_entity(session=session, actor=actor, entity_id=entity_id, if_match=if_match)
    live.refresh()


@router.post(
    "/entities/{entity_id}/aliases",
    summary="Add an alias to an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=AliasPublic,
    responses={**_CONDITIONAL, **_SHARED, **with_etag(201)},
)
def add_alias(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    body: AliasCreate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
) -> AliasPublic:
    """A new surface form; 409 when the entity has it already (after normalisation),
    or when another entity has it, unless `allow_shared=true`. `ETag` is the entity's."""
    edit = store.add_alias(
        session=session,
        actor=actor,
        entity_id=entity_id,
        data=body,
        if_match=if_match,
        allow_shared=allow_shared,
    )
    live.refresh()
    _tag(response, edit.entity)
    return edit.alias


@router.patch(
    "/entities/{entity_id}/aliases/{alias_id}",
    summary="Change an alias's text, note or case rule",
    response_model=AliasPublic,
    responses={**_CONDITIONAL, **_SHARED, **with_etag(200)},
)
def update_alias(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    alias_id: AliasIdPath,
    body: AliasUpdate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
) -> AliasPublic:
    """Only the fields sent change, and the alias keeps its `id`; `null` removes the
    note or the case rule. A text the entity has already is refused (409), as is one
    that another entity has, unless `allow_shared=true`. `ETag` is the entity's."""
    edit = store.update_alias(
        session=session,
        actor=actor,
        entity_id=entity_id,
        alias_id=alias_id,
        data=body,
        if_match=if_match,
        allow_shared=allow_shared,
    )
    live.refresh()
    _tag(response, edit.entity)
    return edit.alias


@router.delete(
    "/entities/{entity_id}/aliases/{alias_id}",
    summary="Remove an alias",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_CONDITIONAL, **with_etag(204)},
)
def delete_alias(
    session: SessionDep,
    live: LiveIndexDep,
    actor: ActorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    alias_id: AliasIdPath,
    response: Response,
) -> None:
    """Remove one alias (its `id` is listed by `GET /entities/{entity_id}`); alias ids
    are never given again. `ETag` is the entity's."""
    entity = store.delete_alias(
        session=session, actor=actor, entity_id=entity_id, alias_id=alias_id, if_match=if_match
    )
    live.refresh()
    _tag(response, entity)


async def _alias_file_body(request: Request) -> tuple[bytes, str]:
    return await request.body(), request.headers.get("content-type", "application/yaml")


_ALIAS_FILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "An alias file, as `aliases.yaml` or its JSON equivalent.",
        "content": {
            "application/yaml": {
                "schema": {"type": "string"},
                # A merge adding an entity the shipped table lacks: trying it erases nothing.
                "example": "entities:\n  - id: hafiz-gul-bahadur-group\n"
                "    name: Hafiz Gul Bahadur group\n    type: organization\n"
                "    aliases:\n      - Gul Bahadur group\n",
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
        s409="A replace with no entities, without `allow_empty=true`; a form the file "
        "would make shared by several entities, without `allow_shared=true` (`detail` "
        "names the first 20); or the file conflicts with the stored table.",
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
    allow_shared: Annotated[
        bool,
        Query(
            description="Accept forms that the file makes shared by several entities "
            "(their mentions then answer `ambiguous`)."
        ),
    ] = False,
) -> ImportReport:
    """Load a whole file in one transaction: all of it, or nothing when any entry is invalid.

    `merge` adds the file's entities and aliases and sets the fields the file
    gives (a field it omits is kept). `replace` makes the table the file,
    changing only what differs: aliases that stay keep their ids. It needs
    `confirm=true`; with a file of no entities it also needs
    `allow_empty=true`, as it would delete every entity. A file that changes
    nothing commits nothing (the report gives the current revision). A form
    that the file would make shared by several entities is refused (409)
    unless `allow_shared=true`.
    """
    if mode == "replace" and not confirm:
        raise DomainError(
            "a replace import deletes every entity the file lacks: add confirm=true to do it"
        )
    raw, media_type = body
    entries = read_alias_file(raw, media_type=media_type)
    report = store.import_entities(
        session=session,
        actor=actor,
        entries=entries,
        mode=mode,
        allow_empty=allow_empty,
        allow_shared=allow_shared,
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

"""Edit the curated table, see its history and undo (an editor's bearer token required).

Each edit is one call of ``app.editing``, which commits it with its history
and brings this process's index up to date.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import AfterValidator

from app import editing, history, store
from app import examples as example
from app.aliasfile import dump_alias_file, read_alias_file
from app.api.answers import SafeJSONResponse
from app.api.deps import (
    ADMIN_RESPONSES,
    AllowSharedQuery,
    DryRunQuery,
    EditorDep,
    EntityIdPath,
    IfMatchDep,
    LiveIndexDep,
    SessionDep,
    require_admin,
)
from app.api.responses import DRY_RUN_ANSWER, documented, with_etag
from app.errors import DomainError
from app.etags import etag_of
from app.models.api import (
    AliasCreate,
    AliasPublic,
    AliasUpdate,
    EditReport,
    EntityCreate,
    EntityMerge,
    EntityPublic,
    EntityUpdate,
    HistoryPage,
    ImportReport,
    RevertReport,
)
from app.models.fields import ENTITY_ID_PATTERN, MAX_STORED_INT
from app.settings import EDITOR_NAME_PATTERN

_NOT_FOUND = documented(404)
_JSON_BODY = documented(400)
_SHARED = documented(
    409,
    s409="The ID or the form exists already: the entity has it, or another entity "
    "(named in `detail`) has it and `allow_shared` is not true.",
)
# Edits of one entity: If-Match may be malformed (400) or stale (412).
_CONDITIONAL = documented(
    400,
    404,
    412,
    s400="The body could not be read (it is not UTF-8 text), or If-Match is no ETag.",
)

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_RESPONSES,
)

AliasIdPath = Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="The alias's `id`.")]


def _report(report: EditReport) -> Response:
    """A dry run's answer: 200 with what the edit would change."""
    return SafeJSONResponse(report.model_dump(mode="json"))


def _tagged(response: Response, entity: EntityPublic) -> None:
    response.headers["ETag"] = etag_of(entity)


def _entity_answer(result: EntityPublic | EditReport, response: Response) -> Any:
    if isinstance(result, EditReport):
        return _report(result)
    _tagged(response, result)
    return result


def _alias_answer(result: store.AliasEdit | EditReport, response: Response) -> Any:
    if isinstance(result, EditReport):
        return _report(result)
    _tagged(response, result.entity)
    return result.alias


@router.post(
    "/entities",
    operation_id="createEntity",
    summary="Add an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=EntityPublic,
    responses={**DRY_RUN_ANSWER, **_JSON_BODY, **_SHARED, **with_etag(201)},
)
def create_entity(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    body: EntityCreate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
    dry_run: DryRunQuery = False,
) -> Any:
    """Add an entity with its aliases; it resolves as soon as this returns.

    A name or alias that another entity has already is refused (409), unless
    `allow_shared=true`.
    """
    result = editing.create_entity(
        session=session,
        live=live,
        editor=editor,
        data=body,
        allow_shared=allow_shared,
        dry_run=dry_run,
    )
    return _entity_answer(result, response)


@router.patch(
    "/entities/{entity_id}",
    operation_id="updateEntity",
    summary="Change an entity's name, type, description or prominence",
    response_model=EntityPublic | EditReport,
    responses={**_CONDITIONAL, **_SHARED, **with_etag(200)},
)
def update_entity(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    body: EntityUpdate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
    dry_run: DryRunQuery = False,
) -> Any:
    """Only the fields sent change; `null` removes a description or a prominence.

    A new name that another entity has already is refused (409), unless
    `allow_shared=true`. The answer is the entity, or with `dry_run=true` what
    would change.
    """
    result = editing.update_entity(
        session=session,
        live=live,
        editor=editor,
        entity_id=entity_id,
        data=body,
        if_match=if_match,
        allow_shared=allow_shared,
        dry_run=dry_run,
    )
    return _entity_answer(result, response)


@router.delete(
    "/entities/{entity_id}",
    operation_id="deleteEntity",
    summary="Delete an entity and its aliases",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        **DRY_RUN_ANSWER,
        **_CONDITIONAL,
        **documented(
            409,
            s409="Entities merged into this one lead to it: revert those merges first, "
            "or merge it into another entity.",
        ),
    },
)
def delete_entity(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    dry_run: DryRunQuery = False,
) -> Response:
    """The entity and all its aliases are gone; the history keeps them, and a revert brings
    them back with their IDs."""
    result = editing.delete_entity(
        session=session,
        live=live,
        editor=editor,
        entity_id=entity_id,
        if_match=if_match,
        dry_run=dry_run,
    )
    if isinstance(result, EditReport):
        return _report(result)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/entities/{entity_id}/aliases",
    operation_id="addAlias",
    summary="Add an alias to an entity",
    status_code=status.HTTP_201_CREATED,
    response_model=AliasPublic,
    responses={**DRY_RUN_ANSWER, **_CONDITIONAL, **_SHARED, **with_etag(201)},
)
def add_alias(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    body: AliasCreate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
    dry_run: DryRunQuery = False,
) -> Any:
    """A new surface form; 409 when the entity has it already (after normalisation),
    or when another entity has it, unless `allow_shared=true`. `ETag` is the entity's."""
    result = editing.add_alias(
        session=session,
        live=live,
        editor=editor,
        entity_id=entity_id,
        data=body,
        if_match=if_match,
        allow_shared=allow_shared,
        dry_run=dry_run,
    )
    return _alias_answer(result, response)


@router.patch(
    "/entities/{entity_id}/aliases/{alias_id}",
    operation_id="updateAlias",
    summary="Change an alias's text, note or case rule",
    response_model=AliasPublic | EditReport,
    responses={**_CONDITIONAL, **_SHARED, **with_etag(200)},
)
def update_alias(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    alias_id: AliasIdPath,
    body: AliasUpdate,
    response: Response,
    allow_shared: AllowSharedQuery = False,
    dry_run: DryRunQuery = False,
) -> Any:
    """Only the fields sent change, and the alias keeps its `id`; `null` removes the
    note or the case rule. A text the entity has already is refused (409), as is one
    that another entity has, unless `allow_shared=true`. `ETag` is the entity's."""
    result = editing.update_alias(
        session=session,
        live=live,
        editor=editor,
        entity_id=entity_id,
        alias_id=alias_id,
        data=body,
        if_match=if_match,
        allow_shared=allow_shared,
        dry_run=dry_run,
    )
    return _alias_answer(result, response)


@router.delete(
    "/entities/{entity_id}/aliases/{alias_id}",
    operation_id="deleteAlias",
    summary="Remove an alias",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**DRY_RUN_ANSWER, **_CONDITIONAL, **with_etag(204)},
)
def delete_alias(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    alias_id: AliasIdPath,
    dry_run: DryRunQuery = False,
) -> Response:
    """Remove one alias (its `id` is listed by `GET /entities/{entity_id}`); alias ids
    are never given again. `ETag` is the entity's."""
    result = editing.delete_alias(
        session=session,
        live=live,
        editor=editor,
        entity_id=entity_id,
        alias_id=alias_id,
        if_match=if_match,
        dry_run=dry_run,
    )
    if isinstance(result, EditReport):
        return _report(result)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"ETag": etag_of(result)})


@router.post(
    "/entities/{entity_id}/merge",
    operation_id="mergeEntity",
    summary="Merge an entity into another, which stays",
    response_model=EntityPublic | EditReport,
    responses={
        **_CONDITIONAL,
        **with_etag(200),
        **documented(
            404,
            409,
            422,
            s404="No entity has this ID (or it was merged already: `detail` says into which), "
            "or `into` names no entity.",
            s409="`into` was merged into another entity already (`detail` names it).",
            s422="The body is malformed, or `into` is the entity itself.",
        ),
    },
)
def merge_entity(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    if_match: IfMatchDep,
    entity_id: EntityIdPath,
    body: EntityMerge,
    response: Response,
    dry_run: DryRunQuery = False,
) -> Any:
    """The entity's aliases move to `into` with their IDs, and its name becomes an alias
    there; forms `into` has already are dropped. A description or prominence that `into`
    lacks is taken over; its other fields stay. The entity is gone, and
    `GET /entities/{entity_id}` answers 308 to `into`. The answer is `into` as it is now.

    A revert of the change in `/admin/history` brings both back as they were.
    """
    result = editing.merge_entity(
        session=session,
        live=live,
        editor=editor,
        entity_id=entity_id,
        into=body.into,
        if_match=if_match,
        dry_run=dry_run,
    )
    return _entity_answer(result, response)


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
    operation_id="importTable",
    summary="Import an alias file",
    response_model=ImportReport | EditReport,
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
    editor: EditorDep,
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
    dry_run: DryRunQuery = False,
) -> Any:
    """Load a whole file in one transaction: all of it, or nothing when any entry is invalid.

    `merge` adds the file's entities and aliases and sets the fields the file
    gives (a field it omits is kept). `replace` makes the table the file,
    changing only what differs: aliases that stay keep their ids. It needs
    `confirm=true`; with a file of no entities it also needs
    `allow_empty=true`, as it would delete every entity. A file that changes
    nothing commits nothing (the report gives the current revision). A form
    that the file would make shared by several entities is refused (409)
    unless `allow_shared=true`. With `dry_run=true` the answer is what would
    change, and nothing is written.
    """
    if mode == "replace" and not confirm:
        raise DomainError(
            "a replace import deletes every entity the file lacks: add confirm=true to do it"
        )
    raw, media_type = body
    source = read_alias_file(raw, media_type=media_type)
    return editing.import_alias_file(
        session=session,
        live=live,
        editor=editor,
        source=source,
        mode=mode,
        allow_empty=allow_empty,
        allow_shared=allow_shared,
        dry_run=dry_run,
    )


# The YAML document's shape; each entity is as `POST /admin/entities` takes it.
_ALIAS_FILE = {
    "type": "object",
    "required": ["entities"],
    "properties": {
        "types": {"type": "array", "items": {"type": "object"}},
        "entities": {"type": "array", "items": {"type": "object"}},
    },
}


@router.get(
    "/export",
    operation_id="exportTable",
    summary="Export the table as an alias file",
    response_class=Response,
    responses={
        200: {
            "content": {"application/yaml": {"schema": _ALIAS_FILE, "example": example.ALIAS_FILE}},
            "description": "The alias file.",
        }
    },
)
def export_file(session: SessionDep) -> Response:
    """The whole table in the alias-file format; importing it with `replace` gives it back."""
    text = dump_alias_file(store.export_table(session=session))
    return Response(text, media_type="application/yaml; charset=utf-8")


def _valid_cursor(text: str | None) -> str | None:
    if text is not None:
        history.decode_cursor(text)  # a ValueError is a 422 naming the parameter
    return text


@router.get(
    "/history",
    operation_id="listChanges",
    summary="The history of changes, newest first",
    response_model=HistoryPage,
)
def list_history(
    session: SessionDep,
    entity_id: Annotated[
        str | None, Query(pattern=ENTITY_ID_PATTERN, description="Only changes of this entity.")
    ] = None,
    editor: Annotated[
        str | None,
        Query(
            pattern=EDITOR_NAME_PATTERN,
            description="Only changes by this editor (the name of a token).",
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        Query(description="Only changes at or after this ISO time (UTC unless it has a zone)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Changes per page.")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=64, description="The `next` of the page before."),
        AfterValidator(_valid_cursor),
    ] = None,
) -> HistoryPage:
    """Every change with its editor, time, revision and the entity's state before and after.

    An edit that touched several entities (an import, a revert) has a row for
    each, under one revision.
    """
    return history.list_changes(
        session=session,
        entity_id=entity_id,
        editor=editor,
        since=since,
        limit=limit,
        cursor=cursor,
    )


@router.post(
    "/history/{change_id}/revert",
    operation_id="revertChange",
    summary="Undo the edit a change belongs to",
    response_model=RevertReport | EditReport,
    responses=documented(
        404,
        409,
        s404="No change has this ID.",
        s409="An entity the edit touched has changed since (the answer names the changes), "
        "the edit was reverted already, what it brings back would share a form with another "
        "entity (without `allow_shared=true`), or it cannot be reverted.",
    ),
)
def revert_change(
    session: SessionDep,
    live: LiveIndexDep,
    editor: EditorDep,
    change_id: Annotated[int, Path(ge=1, le=MAX_STORED_INT, description="The change's `id`.")],
    allow_shared: AllowSharedQuery = False,
    dry_run: DryRunQuery = False,
) -> RevertReport | EditReport:
    """Every entity the edit touched goes back to its state before it: a deleted entity or
    alias comes back with its ID, an update is rolled back, a created entity is deleted.

    The revert is a change itself (action `revert`), so it can be reverted too. With
    `dry_run=true` the answer is what the revert would change, and nothing is written.
    """
    return editing.revert(
        session=session,
        live=live,
        editor=editor,
        change_id=change_id,
        allow_shared=allow_shared,
        dry_run=dry_run,
    )

"""The entity types the table declares."""

from fastapi import APIRouter

from app import declared_types
from app.api.deps import SessionDep
from app.api.responses import documented
from app.models.api import EntityTypeList

router = APIRouter(prefix="/types", tags=["entities"], responses=documented(503))


@router.get(
    "", operation_id="listTypes", summary="List the entity types", response_model=EntityTypeList
)
def list_types(session: SessionDep) -> EntityTypeList:
    """The declared types, each with its description and how many entities have it.

    When the table declares no type, types are free words: then the types the
    entities have are listed, each with a null description."""
    return declared_types.list_types(session=session)

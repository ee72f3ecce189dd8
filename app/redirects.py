"""Where a merged entity's ID leads: the entity it was merged into.

A redirect always leads to an entity that is not merged itself: merging an
entity away repoints the redirects that led to it, so an old ID is one hop
from its entity however many merges followed.
"""

from collections.abc import Collection

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from app.models.tables import EntityRedirect, utcnow


def target(session: Session, entity_id: str) -> str | None:
    """The entity that ``entity_id`` was merged into; None for an ID never merged."""
    return targets(session, [entity_id]).get(entity_id)


def targets(session: Session, entity_ids: Collection[str]) -> dict[str, str]:
    """Of ``entity_ids``, those that were merged, each with the entity it leads to."""
    query = select(EntityRedirect.id, EntityRedirect.into).where(
        col(EntityRedirect.id).in_(list(entity_ids))
    )
    return dict(session.exec(query).all())


def leading_to(session: Session, entity_id: str) -> list[str]:
    """The IDs of the entities merged into ``entity_id`` before."""
    query = select(EntityRedirect.id).where(EntityRedirect.into == entity_id)
    return list(session.exec(query.order_by(col(EntityRedirect.id))).all())


def repoint(session: Session, *, from_id: str, into: str, revision: int) -> None:
    """Lead to ``into`` what led to ``from_id``, which is merged into ``into`` now."""
    session.execute(
        update(EntityRedirect)
        .where(col(EntityRedirect.into) == from_id)
        .values(into=into, revision=revision, at=utcnow())
    )


def replace(
    session: Session, *, entity_ids: Collection[str], leads: dict[str, str], revision: int
) -> None:
    """Make the redirects of ``entity_ids`` exactly ``leads`` (an ID absent from it has none)."""
    ids = list(entity_ids)
    session.execute(delete(EntityRedirect).where(col(EntityRedirect.id).in_(ids)))
    now = utcnow()
    rows = [
        {"id": entity_id, "into": into, "revision": revision, "at": now}
        for entity_id, into in leads.items()
    ]
    if rows:
        session.execute(insert(EntityRedirect), rows)

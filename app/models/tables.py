"""The database tables, as SQLModel classes, and the bases they share with the API's shapes.

``EntityBase`` and ``AliasBase`` hold the fields an entity and an alias have
everywhere; ``Entity`` and ``Alias`` add what is stored. The history
(``Change``), the table's revision (``TableState``), merged entities' IDs
(``EntityRedirect``), declared types (``EntityType``) and the review queue
(``ReviewItem``) are tables of their own. Alembic's migrations are compared
with what this module declares on ``SQLModel.metadata``.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from app.models.fields import (
    MAX_ACTOR_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NORMAL_FORM_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_TYPE_LENGTH,
    PROMINENCE_DESCRIPTION,
    MatchableText,
    Note,
    Prominence,
    TypeName,
)


def utcnow() -> datetime:
    """The time now, in UTC: the default of every stored time."""
    return datetime.now(UTC)


class EntityBase(SQLModel):
    name: MatchableText = Field(max_length=MAX_NAME_LENGTH)
    type: TypeName = Field(max_length=MAX_TYPE_LENGTH, index=True)
    description: Note | None = Field(default=None, max_length=MAX_NOTE_LENGTH)
    prominence: Prominence | None = Field(default=None, description=PROMINENCE_DESCRIPTION)


class Entity(EntityBase, table=True):
    id: str = Field(primary_key=True, max_length=128)
    # The name's normal form, kept by the store beside the name: the key under
    # which an exact match finds it, so forms shared with aliases of other
    # entities are found by an indexed query, on every replica alike.
    normalized_name: str = Field(
        default="",
        max_length=MAX_NORMAL_FORM_LENGTH,
        index=True,
        sa_column_kwargs={"server_default": ""},
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    aliases: list["Alias"] = Relationship(
        back_populates="entity",
        # The database deletes aliases with their entity (ON DELETE CASCADE).
        sa_relationship_kwargs={
            "order_by": "Alias.id",
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
        },
    )


class AliasBase(SQLModel):
    text: MatchableText = Field(max_length=MAX_NAME_LENGTH)
    note: Note | None = Field(default=None, max_length=MAX_NOTE_LENGTH)
    case_sensitive: bool | None = Field(
        default=None,
        description=(
            "Whether /annotate needs the text's case to be the alias's. Unset, short "
            "all-capital aliases (US, IS, KP) are case-sensitive, other names need a "
            "capital letter, and numbers and month or weekday names are not spotted."
        ),
    )


class Alias(AliasBase, table=True):
    """One surface form of an entity; unique per entity after normalisation."""

    __table_args__ = (
        UniqueConstraint("entity_id", "normalized", name="uq_alias_entity_form"),
        # An id is never given again, on SQLite too (PostgreSQL's sequence never
        # does): a retried DELETE of an alias must not remove the next one added.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # Looked up by the unique constraint's index, which begins with it.
    entity_id: str = Field(
        sa_column=Column(String(128), ForeignKey("entity.id", ondelete="CASCADE"), nullable=False)
    )
    normalized: str = Field(max_length=MAX_NORMAL_FORM_LENGTH, index=True)

    entity: Entity = Relationship(back_populates="aliases")


class EntityType(SQLModel, table=True):
    """A declared entity type: once any is declared, every entity's type is one of them."""

    __tablename__ = "entity_type"

    id: str = Field(primary_key=True, max_length=MAX_TYPE_LENGTH)
    description: str = Field(max_length=MAX_NOTE_LENGTH)


class TableState(SQLModel, table=True):
    """A single row whose revision grows with every committed change."""

    __tablename__ = "table_state"

    id: int = Field(default=1, primary_key=True)
    revision: int = Field(default=0)


class Change(SQLModel, table=True):
    """The history: who changed which entity, when, at which revision, from what to what.

    One edit is one revision; it has a row per entity it touched. ``before``
    and ``after`` are the entity's states (``app.states``), null where it did
    not exist; rows recorded before states were kept have neither.
    """

    id: int | None = Field(default=None, primary_key=True)
    revision: int = Field(index=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=MAX_ACTOR_LENGTH, index=True)
    action: str = Field(max_length=32)
    # No foreign key: the record outlives the entity it speaks of.
    # None means the change touched the whole table (a replace import).
    entity_id: str | None = Field(default=None, max_length=128, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    before: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    after: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    # The change this one undid (a revert's rows); a change is undone once.
    reverts: int | None = Field(default=None, index=True)


class EntityRedirect(SQLModel, table=True):
    """A merged entity's ID and the entity it was merged into, which is never merged itself.

    No foreign key: like the history, the redirect outlives what it points at.
    """

    __tablename__ = "entity_redirect"

    id: str = Field(primary_key=True, max_length=128)
    # A merge repoints the redirects into the entity it merges away.
    into: str = Field(max_length=128, index=True)
    revision: int = Field(description="The table revision of the merge.")
    at: datetime = Field(default_factory=utcnow)


# Mentions longer than this are not kept for review, as written nor normalised.
MAX_REVIEW_FORM_LENGTH = 200
ReviewStatus = Literal["open", "dismissed", "accepted", "resolved"]


class ReviewItem(SQLModel, table=True):
    """A form that live traffic left unmatched or ambiguous, counted for editors."""

    __tablename__ = "review_item"
    # The queue is listed by status, the most frequent first.
    __table_args__ = (
        UniqueConstraint("form", name="uq_review_item_form"),
        Index("ix_review_item_status_count", "status", "count"),
    )

    id: int | None = Field(default=None, primary_key=True)
    form: str = Field(max_length=MAX_REVIEW_FORM_LENGTH)
    example: str = Field(max_length=MAX_REVIEW_FORM_LENGTH)
    count: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default="open", max_length=16)
    first_seen: datetime
    last_seen: datetime
    candidates: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    decided_by: str | None = Field(default=None, max_length=MAX_ACTOR_LENGTH)
    decided_at: datetime | None = None
    entity_id: str | None = Field(default=None, max_length=128)

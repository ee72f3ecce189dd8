"""The review queue: forms that live traffic left unresolved, counted for editors.

Revision ID: 3b8e5f2a9c41
Revises: f59c4f20fe41
Create Date: 2026-12-04 23:08:43.499172
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "3b8e5f2a9c41"
down_revision: str | None = "f59c4f20fe41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("example", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("first_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        # The flush's upsert meets stored counts on it.
        sa.UniqueConstraint("form", name="uq_review_item_form"),
    )
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.create_index("ix_review_item_status_count", ["status", "count"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item_status_count")
    op.drop_table("review_item")

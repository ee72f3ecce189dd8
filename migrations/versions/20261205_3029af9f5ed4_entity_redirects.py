"""Merged entities' IDs redirect to the entity they were merged into.

Revision ID: 3029af9f5ed4
Revises: 8f1d6a2b7c35
Create Date: 2026-12-05 00:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "3029af9f5ed4"
down_revision: str | None = "8f1d6a2b7c35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_redirect",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("into", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("entity_redirect", schema=None) as batch_op:
        # A merge repoints the redirects that lead to the entity it merges away.
        batch_op.create_index(batch_op.f("ix_entity_redirect_into"), ["into"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entity_redirect", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_redirect_into"))
    op.drop_table("entity_redirect")

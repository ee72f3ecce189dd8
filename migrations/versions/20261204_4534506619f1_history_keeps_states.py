"""The history keeps each entity's state before and after a change, and what a revert undid.

Rows recorded before this have neither state: they stay in the history, and
cannot be reverted.

Revision ID: 4534506619f1
Revises: 3b8e5f2a9c41
Create Date: 2026-12-04 23:08:55.625463
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4534506619f1"
down_revision: str | None = "3b8e5f2a9c41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("before", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("after", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("reverts", sa.Integer(), nullable=True))
        # The history is filtered by editor, and a revert looks up what undid a change.
        batch_op.create_index(batch_op.f("ix_change_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_reverts"), ["reverts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_reverts"))
        batch_op.drop_index(batch_op.f("ix_change_actor"))
        batch_op.drop_column("reverts")
        batch_op.drop_column("after")
        batch_op.drop_column("before")

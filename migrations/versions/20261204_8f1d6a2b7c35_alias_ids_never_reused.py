"""Alias ids are never given again on SQLite: the table is rebuilt with AUTOINCREMENT.

PostgreSQL's sequence never gives an id twice, so only SQLite changes. The
rows are copied with their ids; SQLite then counts on from the largest.

Revision ID: 8f1d6a2b7c35
Revises: 3b8e2f4c9a10
Create Date: 2026-12-04 23:31:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8f1d6a2b7c35"
down_revision: str | None = "3b8e2f4c9a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rebuild_alias_table(autoincrement=True)


def downgrade() -> None:
    _rebuild_alias_table(autoincrement=False)


def _rebuild_alias_table(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "alias", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass

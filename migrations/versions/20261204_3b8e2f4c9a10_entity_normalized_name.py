"""Entities keep their name's normal form, so a form shared with another entity is found.

Revision ID: 3b8e2f4c9a10
Revises: 4534506619f1
Create Date: 2026-12-04 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.matching.normalize import normalize

revision: str = "3b8e2f4c9a10"
down_revision: str | None = "4534506619f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
_entity = sa.table("entity", sa.column("id"), sa.column("name"), sa.column("normalized_name"))


# Never a batch that copies the entity table on SQLite: dropping the old table
# would delete every alias with it (ON DELETE CASCADE). Adding a NOT NULL column
# with a default, an index, and dropping a column are done in place.


def upgrade() -> None:
    with op.batch_alter_table("entity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "normalized_name",
                sqlmodel.sql.sqltypes.AutoString(length=2048),
                nullable=False,
                server_default="",
            )
        )
    _fill_normalized_names()
    op.create_index(op.f("ix_entity_normalized_name"), "entity", ["normalized_name"], unique=False)


def _fill_normalized_names() -> None:
    """The stored names' normal forms, a batch at a time: a table may hold a million."""
    connection = op.get_bind()
    update = (
        sa.update(_entity)
        .where(_entity.c.id == sa.bindparam("entity_id"))
        .values(normalized_name=sa.bindparam("form"))
    )
    after = ""
    while True:
        rows = connection.execute(
            sa.select(_entity.c.id, _entity.c.name)
            .where(_entity.c.id > after)
            .order_by(_entity.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(update, [{"entity_id": i, "form": normalize(name)} for i, name in rows])
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index(op.f("ix_entity_normalized_name"), table_name="entity")
    op.execute("ALTER TABLE entity DROP COLUMN normalized_name")

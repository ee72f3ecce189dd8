"""Make a database ready to serve: schema up to date, and a table to serve."""

import logging
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from app import store
from app.aliasfile import parse_alias_file
from app.db import migrate, setup_lock

log = logging.getLogger(__name__)


def prepare_database(*, engine: Engine, aliases_file: Path) -> None:
    """Run the migrations; load ``aliases_file`` when the entity table is empty."""
    with setup_lock(engine):
        migrate(engine)
        with Session(engine) as session:
            if not store.is_empty(session=session):
                return
            table = parse_alias_file(aliases_file.read_bytes())
            report = store.import_table(
                session=session, actor="bootstrap", table=table, mode="merge"
            )
    log.info("loaded %d entities from %s", report.created, aliases_file)

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
    """Run the migrations; load ``aliases_file`` into a database never written to."""
    with setup_lock(engine):
        migrate(engine)
        seed_new_database(engine=engine, aliases_file=aliases_file)


def seed_new_database(*, engine: Engine, aliases_file: Path) -> None:
    """Load ``aliases_file`` when no change was ever committed to the table.

    The check is a read, so a database already in use is not written here; the
    write lock then makes processes that start together on one new database
    (SQLite has no setup lock) load the file once.
    """
    with Session(engine) as session:
        if not store.is_new(session=session):
            return
        store.hold_write_lock(session=session)
        if not store.is_new(session=session):
            return
        table = parse_alias_file(aliases_file.read_bytes())
        report = store.import_table(session=session, actor="bootstrap", table=table, mode="merge")
    log.info("loaded %d entities from %s", report.created, aliases_file)

"""Make a database ready to serve: schema up to date, and a table to serve."""

import logging
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from app import store
from app.aliasfile import parse_alias_file
from app.db import migrate, setup_lock
from app.errors import DatabaseUnusable, InvalidAliasFile
from app.health import check_writes, first_line, is_transient
from app.models.api import AliasFile

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.5
MAX_PAUSE = 10.0
# How long one try waits for a lock another session holds (at most the whole wait).
LOCK_WAIT = 2.0
MIN_LOCK_WAIT = 0.5


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
        table = _shipped_table(aliases_file)
        # The shipped table is curated: a form it gives several entities is meant
        # (the Ministry of Foreign Affairs of two countries).
        report = store.import_table(
            session=session, actor="bootstrap", table=table, mode="merge", allow_shared=True
        )
    log.info("loaded %d entities from %s", report.created, aliases_file)


def _waiting_at_most(engine: Engine, seconds: float) -> Engine:
    """``engine``'s database, each connection waiting at most ``seconds`` for a
    lock that another session holds (PostgreSQL's ``lock_timeout``; SQLite's
    connections wait 30 s at most already): a table locked elsewhere is a try
    that failed, tried again, not a start that hangs with nothing said."""
    if engine.dialect.name != "postgresql":
        return engine
    options = f"-c lock_timeout={int(seconds * 1000)}"
    return create_engine(engine.url, poolclass=NullPool, connect_args={"options": options})


def _shipped_table(aliases_file: Path) -> AliasFile:
    """The table of ``aliases_file``; a fault names the file (``ALIASES_FILE``)."""
    try:
        return parse_alias_file(aliases_file.read_bytes())
    except OSError as error:
        raise InvalidAliasFile(f"ALIASES_FILE {aliases_file}: {error.strerror}") from None
    except InvalidAliasFile as error:
        raise InvalidAliasFile(f"ALIASES_FILE {aliases_file}: {error.detail}") from None


def prepare_when_reachable(*, engine: Engine, aliases_file: Path, wait: float) -> None:
    """``prepare_database`` and a write check, tried again while the database is unreachable.

    Tries are ``FIRST_PAUSE`` seconds apart at first, twice as far each time,
    at most ``MAX_PAUSE``, for ``wait`` seconds in all; each failed one logs a
    line. An error that waiting can't cure (``app.health``) raises
    :class:`DatabaseUnusable` at once, as does the end of the wait.
    """
    name = engine.url.difference_update_query(["connect_timeout"]).render_as_string()
    deadline = time.monotonic() + wait
    pause = FIRST_PAUSE
    setup = _waiting_at_most(engine, min(max(wait, MIN_LOCK_WAIT), LOCK_WAIT))
    while True:
        try:
            prepare_database(engine=setup, aliases_file=aliases_file)
            check_writes(engine)
            return
        except SQLAlchemyError as error:
            reason = first_line(error)
            if not is_transient(error):
                raise DatabaseUnusable(f"cannot use the database {name}: {reason}") from None
            left = deadline - time.monotonic()
            if left <= 0:
                raise DatabaseUnusable(
                    f"the database {name} was not reachable within {wait:g} s: {reason}"
                ) from None
            pause = min(pause, left)
            log.warning("database %s not reachable (%s); next try in %.1f s", name, reason, pause)
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)

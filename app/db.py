"""The database engine, sessions, and bringing the schema up to date."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, Table, event, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, create_engine

import app.models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.errors import DatabaseUnusable
from app.resources import MIGRATIONS_DIR

# Held while migrating and seeding, so that replicas starting together on one
# PostgreSQL database take turns instead of racing to create the schema.
_PG_SETUP_LOCK = 0x616C696173  # "alias"
# Where Alembic keeps the revision a database's schema is at.
_VERSION_TABLE = "alembic_version"


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    if "connect_timeout" not in url.query:  # an address that drops packets fails in time
        url = url.update_query_dict({"connect_timeout": "10"})
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def require_existing_database(database_url: str, *, remedy: str) -> None:
    """Refuse a SQLite file that does not exist, saying what to do instead.

    Connecting would create it: a command run in the wrong folder would then
    fill, read or annotate a new empty table there. Commands that may create
    one (``import --create``, ``serve``) do not call this.
    """
    url = make_url(database_url)
    path = url.database
    if url.get_backend_name() != "sqlite" or path in (None, "", ":memory:"):
        return
    if not Path(path).exists():
        shown = path if Path(path).is_absolute() else f"./{path}"
        raise DatabaseUnusable(f"no database at {shown}; {remedy}")


def schema_is_current(engine: Engine) -> bool:
    """Whether the database has every migration applied, read without changing it."""
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    with engine.connect() as connection:
        applied = MigrationContext.configure(connection).get_current_heads()
    return set(applied) == set(heads)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers in other processes go on while one writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# The page cache, in KiB, of a SQLite connection while it writes a large import:
# with the default 2 MiB, a transaction of 400k aliases spills its index pages to
# the write-ahead log over and over (1.9 GB written for a 130 MB table).
BULK_WRITE_CACHE_KIB = 64 * 1024


@contextmanager
def bulk_writing(connection: Connection) -> Iterator[None]:
    """Settings for a block that writes much in one transaction (an import).

    SQLite: a larger page cache for the block, then the connection's own again.
    Only memory: what is written and when it is durable do not change. The
    block ends before the connection goes back to the pool, so that no other
    session keeps the cache; the pages it holds are written at the latest then.

    PostgreSQL: every statement planned for the table as it is now, until the
    transaction ends. The driver prepares a statement run often, and its plan
    would be kept from the first few runs: a look-up by id planned as a scan of
    tables still nearly empty, then run on the tables the transaction grows
    (400k aliases imported in 67 s, against 33 s).
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (mappings of the same columns) into ``table``.

    On PostgreSQL by ``COPY``, not by an ``INSERT`` a row, which is what the
    driver sends for many rows: an import of 400k aliases took 34.8 s so, and
    20.3 s with its aliases, entities and history rows copied. Each value goes
    through its column type's conversion (JSON, say) as an ``INSERT`` would
    send it; a column the rows leave out gets the database's default, not a
    default made in Python (a time stamp, say): the rows give those. Elsewhere
    by an ``INSERT`` run for every row.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    dialect = connection.dialect
    # Each column the rows give, with its type's conversion (None: the value as it is).
    columns = [
        (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in rows[0]
    ]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name, _ in columns)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [row[n] if convert is None else convert(row[n]) for n, convert in columns]
            )


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration; ``DatabaseUnusable`` for a
    schema at a revision this code does not know (migrated by a newer release),
    or for a database of another application, left as it was."""
    _refuse_foreign_tables(engine)
    try:
        command.upgrade(alembic_config(engine), "head")
    except CommandError as error:
        raise DatabaseUnusable(
            f"the database's schema is of a release this one does not know ({error}): "
            "run the newest alias-service on it"
        ) from None


def _refuse_foreign_tables(engine: Engine) -> None:
    """Refuse a database where tables named as this service's stand, but no
    migration of this service's was ever run: another application's.

    The first migration would create some of its tables and stop at the first
    name taken (an ``entity`` table of its own), leaving that database
    half-changed. Tables of other names (PostGIS's ``spatial_ref_sys``, say)
    are left beside the service's.
    """
    names = set(inspect(engine).get_table_names())
    taken = sorted(names & set(SQLModel.metadata.tables))
    if not taken or _VERSION_TABLE in names:
        return
    raise DatabaseUnusable(
        f"the database holds tables of another application named as alias-service's "
        f"({', '.join(taken)}): point DATABASE_URL at a new database or one of alias-service's"
    )


def migrate_exclusively(engine: Engine) -> None:
    """``migrate``, taking turns with other processes setting up the same database."""
    with setup_lock(engine):
        migrate(engine)


@contextmanager
def setup_lock(engine: Engine) -> Iterator[None]:
    """Serialise schema set-up between processes (a PostgreSQL advisory lock)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_SETUP_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_SETUP_LOCK})

"""Whether the database can be used: which errors pass by themselves, and whether writes work.

A *transient* error is one that waiting may cure: nothing answers at the
address yet (connection refused, timed out, host name not yet known), the
server is starting or shutting down or has no connection slot left, or
another writer holds the lock. Every other error is *permanent*: the server
answered and refused (authentication, unknown database, permissions), or the
SQLite file can't be used (not a database, corrupt, read-only, its directory
missing).
"""

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlmodel import Session

from app import store

log = logging.getLogger(__name__)

_BUSY_SQLSTATE = "55P03"  # lock_not_available: lock_timeout ran out
# admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
_TRANSIENT_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}
# libpq reports a server's refusal to connect as text only ("FATAL:  ...").
_TRANSIENT_REFUSALS = (
    "starting up",
    "shutting down",
    "not yet accepting connections",
    "in recovery mode",
    "too many clients",
    "connection slots are reserved",
)


def first_line(error: BaseException) -> str:
    """The first line of what the database driver said (no SQL, no traceback)."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    lines = str(cause).strip().splitlines()
    return lines[0].strip() if lines else type(cause).__name__


def is_busy(error: SQLAlchemyError) -> bool:
    """Another connection holds the lock that a write needs."""
    if not isinstance(error, DBAPIError):
        return False
    name = getattr(error.orig, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or (
        getattr(error.orig, "sqlstate", None) == _BUSY_SQLSTATE
    )


def is_transient(error: SQLAlchemyError) -> bool:
    """Whether waiting may cure ``error`` (see the module's description)."""
    if is_busy(error):
        return True
    if not isinstance(error, DBAPIError) or isinstance(error.orig, sqlite3.Error):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith("08") or sqlstate in _TRANSIENT_SQLSTATES
    message = str(error.orig)
    if "FATAL:" in message:
        return any(refusal in message for refusal in _TRANSIENT_REFUSALS)
    return isinstance(error, OperationalError)


def check_writes(engine: Engine, *, lock_wait: float = 1.0) -> None:
    """Raise unless the database takes a write; nothing is kept.

    The revision row and the audit trail, which every edit writes, are
    written and rolled back: a read-only file or corrupt pages fail here.
    """
    with (
        engine.connect() as connection,
        _lock_wait(connection, lock_wait),
        Session(bind=connection) as session,
    ):
        store.try_write(session=session)
        session.rollback()


@contextmanager
def _lock_wait(connection: Connection, seconds: float) -> Iterator[None]:
    """Wait at most ``seconds`` for another writer's lock on this connection."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(seconds * 1000)}")
        yield
        return
    if connection.dialect.name != "sqlite":
        yield
        return
    (previous,) = connection.exec_driver_sql("PRAGMA busy_timeout").one()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(previous)}")


class WriteCheck:
    """Whether the database takes a write, tried at most once per ``interval`` seconds.

    ``/readyz`` may be polled often; the write is cheap but not free.
    """

    def __init__(self, engine: Engine, *, interval: float) -> None:
        self._engine = engine
        self._interval = interval
        self._lock = threading.Lock()
        self._writable = False
        self._checked_at = -math.inf
        self.tries = 0

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._checked_at >= self._interval:
                self._writable = self._try()
                self._checked_at = time.monotonic()
            return self._writable

    def _try(self) -> bool:
        self.tries += 1
        try:
            check_writes(self._engine)
        except SQLAlchemyError as error:
            if is_busy(error):  # another writer is writing: writes go through
                return True
            log.error("the database refuses writes: %s", first_line(error))
            return False
        return True

"""Database engine and sessions: a SQLite file in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from api.core.errors import NotFound

# Said whenever a command that only reads finds no database to read.
_HOW_TO_CREATE = (
    "run `dispatch serve` (or `python -m api.core.migrate upgrade`) to create it, "
    "or set DATABASE_URL to the service's database"
)
BUSY_S = 30
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        _WriterTurns().install(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def open_existing(url: str, *, table: str) -> Engine:
    """An engine on a database that exists and holds `table`; never creates one.

    Commands that only read (an audit) must not leave an empty SQLite file behind where they
    were run, nor answer a missing schema with a traceback: the error names the database
    looked at and what to do.
    """
    where = make_url(url)
    shown = where.render_as_string(hide_password=True)
    if where.get_backend_name() == "sqlite":
        path = Path(where.database or "")
        if not where.database or where.database == ":memory:" or not path.is_file():
            raise NotFound(f"no database at {path.resolve()} ({shown}): {_HOW_TO_CREATE}")
    # A plain engine for the look: the WAL pragma of make_engine would write to the file.
    probe = create_engine(url)
    try:
        found = inspect(probe).has_table(table)
    except OperationalError as error:
        raise NotFound(f"cannot open the database {shown}: {error.orig}") from error
    finally:
        probe.dispose()
    if not found:
        raise NotFound(f"the database {shown} has no {table} table yet: {_HOW_TO_CREATE}")
    return make_engine(url)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets the planning worker write while the API reads; foreign keys are off by default.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_S * 1000}")
    cursor.close()


class _WriterTurns:
    """One writing transaction at a time among this process's SQLite connections.

    SQLite lets one transaction write at a time, and one that finds the file locked polls
    for it with growing sleeps: under twenty concurrent requests a write waited up to 2 s
    for locks held a few milliseconds. Taking turns on a lock here hands the file to the
    next writer as soon as the last one commits. The turn is taken at a transaction's first
    write and given back when it ends; past BUSY_S the write goes ahead and SQLite's own
    busy timeout decides, so a forgotten turn can slow writes but never stop them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        event.listen(engine, "checkin", self._checkin)

    def _before_execute(self, connection: Connection, *args: Any) -> None:
        statement = str(args[1]).lstrip()[:7].upper()
        if statement.startswith(WRITES) and "writer_turn" not in connection.info:
            # False when the wait ran out: the transaction goes on without a turn, once.
            connection.info["writer_turn"] = self._lock.acquire(timeout=BUSY_S)

    def _end(self, connection: Connection) -> None:
        self._give_back(connection.info)

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        self._give_back(record.info)  # a connection returned mid-transaction is rolled back

    def _give_back(self, info: dict[str, Any]) -> None:
        if info.pop("writer_turn", False):
            self._lock.release()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed whole, or rolled back whole on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

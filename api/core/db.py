"""Database engine and sessions: a SQLite file in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from api.core.errors import NotFound

# Said whenever a command that only reads finds no database to read.
_HOW_TO_CREATE = (
    "run `dispatch serve` (or `python -m api.core.migrate upgrade`) to create it, "
    "or set DATABASE_URL to the service's database"
)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
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
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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

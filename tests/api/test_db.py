"""SQLite writers take turns within the process, and every way a write ends gives the turn back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.core.db import make_engine, transaction

QUICK_S = 5.0  # far below the 30 s a turn never given back would hold the next writer


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    engine.dispose()


def write(engine: Engine, note_id: int) -> float:
    """Insert one note in its own transaction; the seconds it took."""
    started = time.monotonic()
    with transaction(engine) as session:
        session.execute(text("INSERT INTO note VALUES (:id, 'x')"), {"id": note_id})
    return time.monotonic() - started


def test_a_second_writer_waits_for_the_first_to_commit(engine: Engine) -> None:
    """A write started while another transaction writes completes only after its commit."""
    wrote, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with transaction(engine) as session:
            session.execute(text("INSERT INTO note VALUES (1, 'x')"))
            wrote.set()
            release.wait(QUICK_S)
            order.append("first commits")

    holder = threading.Thread(target=first)
    holder.start()
    assert wrote.wait(QUICK_S)
    second = threading.Thread(target=lambda: (write(engine, 2), order.append("second done")))
    second.start()
    time.sleep(0.3)
    release.set()
    holder.join(QUICK_S)
    second.join(QUICK_S)
    assert order == ["first commits", "second done"]


def test_a_failed_write_gives_the_turn_back(engine: Engine) -> None:
    """A write refused by the database rolls back, and the next writer does not wait."""
    write(engine, 1)
    with pytest.raises(IntegrityError):
        write(engine, 1)
    assert write(engine, 2) < QUICK_S


def test_a_session_closed_mid_write_gives_the_turn_back(engine: Engine) -> None:
    """A session closed after writing, without commit, leaves no turn held."""
    with Session(engine) as session:
        session.execute(text("INSERT INTO note VALUES (1, 'x')"))
    took: list[float] = []
    other = threading.Thread(target=lambda: took.append(write(engine, 2)))
    other.start()
    other.join(QUICK_S + 1)
    assert took and took[0] < QUICK_S

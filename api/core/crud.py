"""The few steps every domain's create/read/update shares."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from api.core.errors import Conflict, NotFound

Row = TypeVar("Row", bound=SQLModel)


def get_or_404(session: Session, table: type[Row], what: str, **where: Any) -> Row:
    query = select(table)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    row = session.exec(query).first()
    if row is None:
        described = ", ".join(f"{k}={v!r}" for k, v in where.items())
        raise NotFound(f"{what} {described} not found")
    return row


def save(session: Session, row: Row, *, what: str) -> Row:
    """Commit one row; a uniqueness clash becomes a 409 instead of a 500."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(f"{what} conflicts with a stored one: {error.orig}") from None
    session.refresh(row)
    return row


def apply_update(row: Row, update: SQLModel) -> Row:
    """Apply the fields a PATCH named; an explicit null means "leave as it is"."""
    for field, value in update.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(row, field, value)
    return row

"""The day's ledger: every handover, stop event, sign-off and cash movement, append-only.

Each entry carries the hash of the one before it on the same day, so changing, removing or
reordering a stored entry breaks the chain and `dispatch audit verify` names where. A
correction is a new entry pointing at the one it corrects; nothing is ever updated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.auth.models import utcnow

GENESIS = "0" * 64  # the previous hash of a day's first entry


class LedgerEntryBase(SQLModel):
    date: dt.date
    kind: str = Field(max_length=40)
    vehicle_code: str = Field(default="", max_length=32)
    order_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    corrects: int | None = None  # the entry this one corrects


class LedgerEntry(LedgerEntryBase, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("area_code", "date", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    # Each area keeps its own chain per day: areas never wait on each other's appends, and
    # an entry moved to another area breaks both chains, so the area needs no hash of its own.
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    date: dt.date = Field(index=True)
    seq: int  # 1, 2, ... per area and day: the chain's order
    vehicle_code: str = Field(default="", max_length=32, index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id", index=True)
    by: str = Field(default="", max_length=100)  # the API key's name
    role: str = Field(default="", max_length=20)
    # ISO 8601 UTC text, hashed as stored: no database's datetime type can shift it.
    recorded_at: str = Field(max_length=40)
    idempotency_key: str = Field(max_length=100, unique=True)
    request_hash: str = Field(max_length=64)  # tells a retry from a different request
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class LedgerEntryPublic(LedgerEntryBase):
    id: int
    area_code: str
    seq: int
    by: str
    role: str
    recorded_at: str
    prev_hash: str
    hash: str


class LedgerHead(SQLModel, table=True):
    """The last entry of each day: appends lock this row, so one day's chain never forks."""

    __tablename__ = "ledger_head"
    area_code: str = Field(primary_key=True, foreign_key="area.code", max_length=32)
    date: dt.date = Field(primary_key=True)
    seq: int = 0
    hash: str = Field(default=GENESIS, max_length=64)


class Attachment(SQLModel, table=True):
    """A signature or photo; entries name it by its SHA-256, so the chain covers its bytes."""

    __tablename__ = "attachment"
    sha256: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(max_length=40)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class AttachmentPublic(SQLModel):
    sha256: str
    content_type: str
    size: int

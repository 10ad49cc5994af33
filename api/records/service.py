"""Appending to the day's ledger, exactly once and in order, and verifying it later."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from api.areas.service import existing_area
from api.auth.service import Principal
from api.core.errors import Conflict
from api.core.hashing import digest
from api.records.images import Upload
from api.records.models import Attachment, LedgerEntry, LedgerHead

# A concurrent append to the same day (or a retry racing its original) loses the race
# and runs again on the new chain head; this many times before the caller hears "busy".
ATTEMPTS = 6


@dataclass(frozen=True, slots=True)
class NewEntry:
    date: dt.date
    kind: str
    vehicle_code: str = ""
    order_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    corrects: int | None = None


# Reads the day's state under the lock and returns the entry to append, or raises a
# domain error; the follow-up applies any change the entry implies (an order's status).
Build = Callable[[Session], NewEntry]
FollowUp = Callable[[Session, LedgerEntry], None]


def entry_hash(entry: LedgerEntry) -> str:
    """The hash of everything an entry says, and of the entry before it."""
    return digest(
        {
            "date": entry.date.isoformat(),
            "seq": entry.seq,
            "kind": entry.kind,
            "vehicle_code": entry.vehicle_code,
            "order_id": entry.order_id,
            "payload": entry.payload,
            "corrects": entry.corrects,
            "by": entry.by,
            "role": entry.role,
            "recorded_at": entry.recorded_at,
            "idempotency_key": entry.idempotency_key,
            "prev_hash": entry.prev_hash,
        }
    )


def append(
    session: Session,
    *,
    principal: Principal,
    idempotency_key: str,
    request: dict[str, Any],
    date: dt.date,
    build: Build,
    area: str,
    follow_up: FollowUp | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append one entry to the chain of `area` and `date`, checking its rules under that
    chain's lock; (entry, created). The caller names the area of what the entry is about (the
    crew's, the order's, the corrected entry's), so no record lands in another area's chain.

    A retry with the same idempotency key and the same request returns the stored entry;
    the same key with a different request is a conflict. Everything is one transaction.
    """
    request_hash = digest(request)
    area = existing_area(session=session, code=area)  # an unknown area fails here, not in a retry
    for attempt in range(ATTEMPTS):
        stored = _replay(session, idempotency_key, request_hash)
        if stored is not None:
            return stored, False
        try:
            entry = _append_once(
                session, principal, idempotency_key, request_hash, (area, date), build, follow_up
            )
            session.commit()
        except (IntegrityError, OperationalError):
            session.rollback()
            time.sleep(0.02 * (attempt + 1))
            continue
        except BaseException:
            session.rollback()
            raise
        session.refresh(entry)
        return entry, True
    raise Conflict("the day's records are busy; retry with the same Idempotency-Key")


def _replay(session: Session, key: str, request_hash: str) -> LedgerEntry | None:
    stored = session.exec(select(LedgerEntry).where(LedgerEntry.idempotency_key == key)).first()
    if stored is not None and stored.request_hash != request_hash:
        raise Conflict(
            f"Idempotency-Key {key!r} was used for a different request", field="Idempotency-Key"
        )
    return stored


def _append_once(
    session: Session,
    principal: Principal,
    key: str,
    request_hash: str,
    chain: tuple[str, dt.date],
    build: Build,
    follow_up: FollowUp | None,
) -> LedgerEntry:
    head = _locked_head(session, *chain)
    new = build(session)
    entry = LedgerEntry(
        area_code=head.area_code,
        date=head.date,
        seq=head.seq + 1,
        kind=new.kind,
        vehicle_code=new.vehicle_code,
        order_id=new.order_id,
        payload=new.payload,
        corrects=new.corrects,
        by=principal.name,
        role=principal.role.value,
        recorded_at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        idempotency_key=key,
        request_hash=request_hash,
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.add(entry)
    session.add(head)
    session.flush()
    if follow_up is not None:
        follow_up(session, entry)
    return entry


def _locked_head(session: Session, area: str, date: dt.date) -> LedgerHead:
    """The area's chain head of the day, write-locked first: on SQLite the write takes the
    database lock before anything is read, on PostgreSQL it locks the row."""
    touched = session.execute(
        update(LedgerHead)
        .where(col(LedgerHead.area_code) == area, col(LedgerHead.date) == date)
        .values(seq=LedgerHead.seq)
    )
    if not touched.rowcount:  # type: ignore[attr-defined]
        session.add(LedgerHead(area_code=area, date=date))
        session.flush()  # a racing first append of the day fails here and retries
    head = session.get(LedgerHead, (area, date), populate_existing=True)
    assert head is not None
    return head


def entries(
    session: Session,
    *,
    area: str,
    date: dt.date,
    vehicle_code: str | None = None,
    order_id: int | None = None,
    kinds: Sequence[str] = (),
) -> list[LedgerEntry]:
    """The area's entries of the day in chain order, optionally of one crew, one order or
    some kinds."""
    query = select(LedgerEntry).where(LedgerEntry.area_code == area, LedgerEntry.date == date)
    if vehicle_code is not None:
        query = query.where(LedgerEntry.vehicle_code == vehicle_code)
    if order_id is not None:
        query = query.where(LedgerEntry.order_id == order_id)
    if kinds:
        query = query.where(col(LedgerEntry.kind).in_(kinds))
    return list(session.exec(query.order_by(col(LedgerEntry.seq))))


def effective(rows: Sequence[LedgerEntry]) -> Iterator[LedgerEntry]:
    """Entries as they now stand: a corrected entry gives way to its latest correction."""
    replaced = {row.corrects for row in rows if row.corrects is not None}
    for row in rows:
        if row.id not in replaced:
            yield row


def corrected_by(session: Session, entry_id: int | None) -> LedgerEntry | None:
    """The correction of the entry, if it has one: corrections form one line, and only its
    latest entry may be corrected or accepted."""
    return session.exec(select(LedgerEntry).where(LedgerEntry.corrects == entry_id)).first()


def keep_image(session: Session, upload: Upload) -> str:
    """Keep a decoded image once, however often it is sent, and return its SHA-256."""
    if session.get(Attachment, upload.sha256) is None:
        session.add(
            Attachment(sha256=upload.sha256, content_type=upload.media_type, content=upload.content)
        )
    return upload.sha256

"""Re-reading every day's chain: any stored entry changed, removed or reordered is named."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from api.areas.models import DEFAULT_AREA
from api.records.models import GENESIS, Attachment, LedgerEntry, LedgerHead
from api.records.service import entry_hash


def verify(session: Session, *, date: dt.date | None = None) -> list[str]:
    """Problems found in the stored chains (all days, or one); empty when all is intact."""
    heads = select(LedgerHead).order_by(col(LedgerHead.date), col(LedgerHead.area_code))
    if date is not None:
        heads = heads.where(LedgerHead.date == date)
    problems: list[str] = []
    for head in session.exec(heads):
        problems += _verify_day(session, head)
    chained = set(session.exec(select(col(LedgerHead.area_code), col(LedgerHead.date))).all())
    stored = set(
        session.exec(select(col(LedgerEntry.area_code), col(LedgerEntry.date)).distinct()).all()
    )
    problems += [
        f"{day} ({area}): entries without a chain head" for area, day in sorted(stored - chained)
    ]
    return problems


def _verify_day(session: Session, head: LedgerHead) -> list[str]:
    rows = session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.area_code == head.area_code, LedgerEntry.date == head.date)
        .order_by(col(LedgerEntry.seq))
    ).all()
    problems: list[str] = []
    previous = GENESIS
    # A single store's messages read as before; a chain's name the area of each.
    day = f"{head.date}" if head.area_code == DEFAULT_AREA else f"{head.date} ({head.area_code})"
    for expected_seq, row in enumerate(rows, start=1):
        where = f"{day} entry #{row.seq} (id {row.id}, {row.kind})"
        if row.seq != expected_seq:
            problems.append(f"{where}: expected #{expected_seq}; an entry is missing")
        if row.prev_hash != previous:
            problems.append(f"{where}: does not follow the entry before it")
        if entry_hash(row) != row.hash:
            problems.append(f"{where}: its content was changed after it was stored")
        problems += [f"{where}: {p}" for p in _attachment_problems(session, row.payload)]
        previous = row.hash
    if (head.seq, head.hash) != (len(rows), previous):
        problems.append(f"{day}: the chain ends at #{len(rows)}, its head says #{head.seq}")
    return problems


def _attachment_problems(session: Session, payload: dict[str, Any]) -> Iterator[str]:
    for sha in _attachment_refs(payload):
        stored = session.get(Attachment, sha)
        if stored is None:
            yield f"attachment {sha[:12]}… is missing"
        elif hashlib.sha256(stored.content).hexdigest() != sha:
            yield f"attachment {sha[:12]}… was changed"


def _attachment_refs(value: Any) -> Iterator[str]:
    """Every value under a key ending in `_sha256` (or a list of them), at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.endswith("_sha256"):
                yield from [inner] if isinstance(inner, str) else list(inner)
            else:
                yield from _attachment_refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _attachment_refs(inner)

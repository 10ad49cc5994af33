"""Who may write for which crew, and the stop an order is on: shared by handover and cash."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Header
from sqlalchemy import String, cast
from sqlmodel import Session, col, select

from api.auth.models import Role
from api.auth.service import Principal
from api.core.errors import Forbidden, NotFound, RuleBroken
from api.drivers.service import published_plan
from api.orders.models import Order
from api.plans.models import PlanStop
from api.records.kinds import Kind
from api.records.models import Attachment, LedgerEntry

# Every write names a key of its own; a retry with the same key is stored once.
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        description="unique per record; repeat it to retry safely",
    ),
]


def require_own_crew(principal: Principal, vehicle_code: str, *, reading: bool = False) -> None:
    """A driver reads and writes only for their own crew; other roles the route admits, any."""
    if principal.role is Role.DRIVER and principal.vehicle_code != vehicle_code:
        verb = "reads" if reading else "writes"
        raise Forbidden(f"a driver {verb} only for their own crew, not {vehicle_code}")


def crew_attachment(session: Session, principal: Principal, sha256: str) -> Attachment:
    """A signature or photo; a driver gets only those their own crew's records name."""
    stored = session.get(Attachment, sha256)
    if stored is None:
        raise NotFound(f"attachment {sha256} not found")
    if principal.role is Role.DRIVER and not _crew_names(session, principal.vehicle_code, sha256):
        raise Forbidden("a driver reads only their own crew's images")
    return stored


def _crew_names(session: Session, vehicle_code: str | None, sha256: str) -> bool:
    # The text search narrows the rows on any database; the fields decide.
    payloads = session.exec(
        select(LedgerEntry.payload).where(
            LedgerEntry.vehicle_code == vehicle_code,
            col(LedgerEntry.kind).in_([Kind.SIGNED_OFF, Kind.SERVICE_REPORT, Kind.PHOTO]),
            cast(col(LedgerEntry.payload), String).contains(sha256),
        )
    )
    return any(
        sha256 in (p.get("signature_sha256"), p.get("image_sha256"), *p.get("photos_sha256", []))
        for p in payloads
    )


def order_by_external_id(session: Session, external_id: str) -> Order:
    order = session.exec(select(Order).where(Order.external_id == external_id)).first()
    if order is None:
        raise NotFound(f"order {external_id!r} not found")
    return order


def planned_stop(session: Session, order: Order, date: dt.date) -> PlanStop:
    """The order's stop on the date's published plan; handover starts only from there."""
    plan = published_plan(session=session, date=date)
    stop = session.exec(
        select(PlanStop).where(PlanStop.plan_id == plan.id, PlanStop.order_id == order.id)
    ).first()
    if stop is None:
        raise RuleBroken(
            f"order {order.external_id!r} is not on the published plan of {date}", field="order"
        )
    return stop

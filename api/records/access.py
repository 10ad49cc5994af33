"""Who may write for which crew and area, and the stop an order is on: shared by handover
and cash. A record belongs to the area of what it is about: its crew's, its order's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Header
from sqlalchemy import String, cast
from sqlmodel import Session, col, select

from api.areas.scope import check_scope, in_scope, vehicle_area
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


def crew_area(session: Session, principal: Principal, vehicle_code: str) -> str:
    """The area of a crew's vehicle, which must be in the key's scope (403); 404 if unknown."""
    area = vehicle_area(session=session, vehicle_code=vehicle_code)
    if area is None:
        raise NotFound(f"vehicle code={vehicle_code!r} not found")
    check_scope(principal, area)
    return area


def crew_attachment(session: Session, principal: Principal, sha256: str) -> Attachment:
    """A signature or photo; a driver gets only those their own crew's records name, a key
    scoped to some areas only those named by a record of one of them."""
    stored = session.get(Attachment, sha256)
    if stored is None:
        raise NotFound(f"attachment {sha256} not found")
    naming = _naming(session, sha256)
    if principal.role is Role.DRIVER and not any(
        vehicle == principal.vehicle_code for vehicle, _ in naming
    ):
        raise Forbidden("a driver reads only their own crew's images")
    if principal.areas and not any(in_scope(principal, area) for _, area in naming):
        areas = sorted({area for _, area in naming})
        check_scope(principal, areas[0] if areas else "(none)")
    return stored


def _naming(session: Session, sha256: str) -> list[tuple[str, str]]:
    """(crew, area) of every record naming the image."""
    # The text search narrows the rows on any database; the fields decide.
    rows = session.exec(
        select(LedgerEntry.vehicle_code, LedgerEntry.area_code, LedgerEntry.payload).where(
            col(LedgerEntry.kind).in_([Kind.SIGNED_OFF, Kind.SERVICE_REPORT, Kind.PHOTO]),
            cast(col(LedgerEntry.payload), String).contains(sha256),
        )
    )
    return [
        (vehicle, area)
        for vehicle, area, p in rows
        if sha256 in (p.get("signature_sha256"), p.get("image_sha256"), *p.get("photos_sha256", []))
    ]


def order_by_external_id(session: Session, external_id: str, principal: Principal) -> Order:
    """The order, whose area must be in the key's scope (403)."""
    order = session.exec(select(Order).where(Order.external_id == external_id)).first()
    if order is None:
        raise NotFound(f"order {external_id!r} not found")
    check_scope(principal, order.area_code)
    return order


def planned_stop(session: Session, order: Order, date: dt.date) -> PlanStop:
    """The order's stop on its area's published plan of the date; handover starts there."""
    plan = published_plan(session=session, date=date, area=order.area_code)
    stop = session.exec(
        select(PlanStop).where(PlanStop.plan_id == plan.id, PlanStop.order_id == order.id)
    ).first()
    if stop is None:
        raise RuleBroken(
            f"order {order.external_id!r} is not on the published plan of {date}", field="order"
        )
    return stop

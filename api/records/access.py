"""Who may write for which crew, and the stop an order is on: shared by handover and cash."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Header
from sqlmodel import Session, select

from api.auth.models import Role
from api.auth.service import Principal
from api.core.errors import Forbidden, NotFound, RuleBroken
from api.drivers.service import published_plan
from api.orders.models import Order
from api.plans.models import PlanStop

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

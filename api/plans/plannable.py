"""Which orders and vehicles a date's plan of one area is made of.

An order is planned on its date; an installation may also be made on a later day of its
window, so it stays plannable, dated earlier, until its window closes. Crews never cross
areas: a plan holds only its area's orders and the vehicles of its area's depots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, and_, col, or_, select

from api.areas.service import only_area
from api.fleet.models import CrewMember, Depot, Vehicle
from api.orders.models import Order, OrderStatus
from optimizer.data import VisitKind
from optimizer.settings import DispatchSettings

# Orders that still need a visit on their date: booked, or already on a plan being redone.
# A failed or partly delivered order comes back to planning on its own.
PLANNABLE = (OrderStatus.BOOKED, OrderStatus.PLANNED, OrderStatus.FAILED)


def area_or_only(session: Session, area: str | None) -> str:
    """The area named, or the chain's only one: with several, leaving it out is a 422, so
    no caller can plan two areas' crews together by forgetting to name one."""
    return area if area is not None else only_area(session=session)


def area_vehicles(*, session: Session, area: str | None = None) -> list[Vehicle]:
    """The area's vehicles (through their depots), active or not, by code."""
    query = (
        select(Vehicle)
        .join(Depot, col(Vehicle.depot_code) == col(Depot.code))
        .where(Depot.area_code == area_or_only(session, area))
        .order_by(col(Vehicle.code))
    )
    return list(session.exec(query))


def working_vehicles(*, session: Session, date: dt.date, area: str | None = None) -> list[Vehicle]:
    """The area's vehicles with a crew on that date; with no crews entered for it (in the
    area), every active vehicle of the area."""
    return working_vehicles_on(session=session, dates=[date], area=area)[date]


def working_vehicles_on(
    *, session: Session, dates: Sequence[dt.date], area: str | None = None
) -> dict[dt.date, list[Vehicle]]:
    """working_vehicles of each date, in two queries however many dates (a slot question
    asks about a fortnight at once)."""
    vehicles = [v for v in area_vehicles(session=session, area=area) if v.active]
    codes = [vehicle.code for vehicle in vehicles]
    crews = select(col(CrewMember.date), col(CrewMember.vehicle_code)).where(
        col(CrewMember.date).in_(dates), col(CrewMember.vehicle_code).in_(codes)
    )
    crewed: dict[dt.date, set[str]] = {}
    for date, code in session.exec(crews):
        crewed.setdefault(date, set()).add(code)
    return {
        date: [v for v in vehicles if date not in crewed or v.code in crewed[date]]
        for date in dates
    }


def plannable_orders(*, session: Session, date: dt.date, area: str | None = None) -> list[Order]:
    """The area's orders of `date`, and visits that may still be made on it though dated earlier (an
    installation the planner put off to a later day of its window)."""
    query = (
        select(Order)
        .where(
            Order.area_code == area_or_only(session, area),
            col(Order.status).in_(PLANNABLE),
            or_(
                Order.date == date,
                and_(
                    col(Order.date) < date,
                    col(Order.latest_date) >= date,
                    col(Order.status).in_((OrderStatus.BOOKED, OrderStatus.FAILED)),
                ),
            ),
        )
        .order_by(Order.external_id)
    )
    return list(session.exec(query))


def later_technician_orders(
    *, session: Session, date: dt.date, days: int, area: str | None = None
) -> list[tuple[int, Order]]:
    """The area's technician visits of the `days` days after `date`, with their day offset:
    they hold room on the days an installation could be put off to."""
    if days < 1:
        return []
    query = (
        select(Order)
        .where(
            Order.area_code == area_or_only(session, area),
            col(Order.date) > date,
            col(Order.date) <= date + dt.timedelta(days=days),
            col(Order.status).in_(PLANNABLE),
            Order.service_type != VisitKind.DELIVERY,
        )
        .order_by(Order.external_id)
    )
    return [((order.date - date).days, order) for order in session.exec(query)]


def visit_days(order: Order, date: dt.date, settings: DispatchSettings) -> tuple[int, int]:
    """The day offsets from `date` on which the planner may make the order's visit."""
    first = max(0, (order.date - date).days)
    if order.latest_date is None:
        return first, first
    return first, max(first, min((order.latest_date - date).days, settings.install_within_days))

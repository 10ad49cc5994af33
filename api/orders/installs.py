"""Installation visits that follow deliveries.

Handing over goods that need installing creates one installation order for what that
handover delivered. It may be made on any day from the day after the delivery to
`install_within_days` after it; the planner chooses which. It is never dated on the delivery
day itself: that day's routes were published the evening before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from api.core.errors import RuleBroken
from api.core.hashing import digest
from api.fleet.service import known_skills
from api.orders.models import Order, OrderEvent, OrderItem, OrderItemCreate, OrderStatus
from optimizer.data import VisitKind
from optimizer.settings import DispatchSettings


def check_install_types(
    *, session: Session, settings: DispatchSettings, items: Sequence[OrderItemCreate]
) -> None:
    """Every install type booked is one the store installs, by a skill it has on file."""
    for index, item in enumerate(items):
        if item.install_type is None:
            continue
        field = f"items[{index}].install_type"
        kind = settings.install_types.get(item.install_type)
        if kind is None:
            known = ", ".join(sorted(settings.install_types))
            raise RuleBroken(
                f"unknown install type {item.install_type!r}; known: {known}",
                field=field,
                rule="install_type",
            )
        if kind.skill:
            known_skills(session=session, skills=[kind.skill], field=field)


def install_window(settings: DispatchSettings, delivered_on: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day an installation after a delivery on `delivered_on` may be made."""
    return (
        delivered_on + dt.timedelta(days=1),
        delivered_on + dt.timedelta(days=settings.install_within_days),
    )


def create_installation(
    session: Session,
    *,
    delivery: Order,
    handed: Mapping[int, int],
    delivered_on: dt.date,
    record_id: int,
    settings: DispatchSettings,
    by: str,
) -> Order | None:
    """The installation of the units just handed over (item id -> units), if any need one.

    Runs inside the handover's transaction: the record and its installation are stored
    together or not at all, and a retried handover (answered from the ledger) never
    creates a second one.
    """
    items = session.exec(
        select(OrderItem)
        .where(OrderItem.order_id == delivery.id, col(OrderItem.install_type).is_not(None))
        .order_by(col(OrderItem.id))
    ).all()
    lines = [(item, handed.get(item.id or 0, 0)) for item in items]
    lines = [(item, units) for item, units in lines if units > 0]
    types = sorted({item.install_type for item, _ in lines if item.install_type})
    known = [settings.install_types[t] for t in types if t in settings.install_types]
    if not known:
        return None
    first, last = install_window(settings, delivered_on)
    install = Order(
        external_id=f"{delivery.external_id}-I{record_id}",
        area_code=delivery.area_code,
        customer=delivery.customer,
        phone=delivery.phone,
        address=delivery.address,
        lat=delivery.lat,
        lon=delivery.lon,
        service_type=VisitKind.INSTALL,
        date=first,
        latest_date=last,
        slot=delivery.slot,
        skills=sorted({kind.skill for kind in known if kind.skill}),
        priority=delivery.priority,
        # One set-up per product type: a second cabinet run goes on while the tools are out.
        service_minutes=sum(kind.minutes for kind in known),
        notes=f"installation after delivery {delivery.external_id}",
        follows_order_id=delivery.id,
        payload_hash=digest({"delivery": delivery.external_id, "record": record_id}),
    )
    session.add(install)
    session.flush()
    for item, units in lines:
        # The units were handed over by the delivery: nothing is on any picking list or
        # owed at the door, and the technician's van carries tools, not goods.
        session.add(
            OrderItem(
                order_id=install.id or 0,
                sku=item.sku,
                name=item.name,
                quantity=units,
                delivered=units,
                weight_kg=0.0,
                volume_m3=0.0,
                install_type=item.install_type,
            )
        )
    detail = {"follows": delivery.external_id, "from": first.isoformat(), "to": last.isoformat()}
    session.add(OrderEvent(order_id=install.id or 0, kind="created", by=by, detail=detail))
    return install


def overdue_installations(*, session: Session, date: dt.date) -> list[Order]:
    """Installations whose window closed before `date` without being made: the planner
    never moves them past their window, so a dispatcher has to agree a new date."""
    query = select(Order).where(
        col(Order.latest_date) < date,
        col(Order.status).in_((OrderStatus.BOOKED, OrderStatus.FAILED)),
    )
    return list(session.exec(query.order_by(col(Order.latest_date))))

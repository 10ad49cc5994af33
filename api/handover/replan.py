"""What a delivery outcome does to its order: delivered, or back to planning with a higher
priority. Runs in the same transaction as the record, so neither is stored without the other.

An order goes back to its own area's planning: the next plan still to be made is decided by
that area's planning time, on its wall clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from api.areas.scope import local_settings
from api.auth.models import utcnow
from api.core.config import ServiceSettings
from api.orders.installs import create_installation
from api.orders.models import Order, OrderEvent, OrderItem, OrderStatus
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from optimizer.settings import DispatchSettings

MAX_PRIORITY = 10


def next_planning_date(settings: DispatchSettings, now: dt.datetime) -> dt.date:
    """The date of the next plan still to be made: tomorrow's is made at planning time, on
    the wall clock of the settings' time zone (an area's, from local_settings)."""
    if now.tzinfo is not None:
        now = now.astimezone(ZoneInfo(settings.timezone))
    days = 1 if now.time() < settings.planning_time else 2
    return now.date() + dt.timedelta(days=days)


def order_settings(session: Session, settings: ServiceSettings, order: Order) -> ServiceSettings:
    """The settings in force where the order is served: its area's."""
    return local_settings(session=session, settings=settings, area=order.area_code)


def order_next_date(
    session: Session, settings: ServiceSettings, order: Order, now: dt.datetime
) -> dt.date:
    """next_planning_date of the order's own area."""
    return next_planning_date(order_settings(session, settings, order), now)


def apply_outcome(
    session: Session, entry: LedgerEntry, *, next_date: dt.date, settings: DispatchSettings
) -> None:
    """Delivered in full, or a service report signed: done. Partly delivered or failed:
    planned again, priority raised. Goods handed over that need installing get their
    installation visit."""
    order = session.get(Order, entry.order_id, with_for_update=True)
    if order is None:
        return
    if entry.kind == Kind.DELIVERED:
        handed = _record_counts(session, order, entry)
        create_installation(
            session,
            delivery=order,
            handed=handed,
            delivered_on=entry.date,
            record_id=entry.id or 0,
            settings=settings,
            by=entry.by,
        )
        if entry.payload["complete"]:
            _change(session, order, entry, "delivered", OrderStatus.DELIVERED)
            return
        _back_to_planning(session, order, entry, next_date, "partially_delivered")
    elif entry.kind == Kind.SERVICE_REPORT:
        # The customer's signature on the report is the end of an installation or repair.
        _change(session, order, entry, "serviced", OrderStatus.DELIVERED)
    elif entry.kind == Kind.FAILED:
        again = dt.date.fromisoformat(entry.payload["replanned_for"])
        _back_to_planning(session, order, entry, again, "failed")


def _record_counts(session: Session, order: Order, entry: LedgerEntry) -> dict[int, int]:
    """Counts the units handed over against the items; item id -> units taken."""
    handed = {line["sku"]: line["quantity"] for line in entry.payload["counts"]}
    items = session.exec(select(OrderItem).where(OrderItem.order_id == order.id)).all()
    taken = {}
    for item in items:
        take = min(handed.get(item.sku, 0), item.quantity - item.delivered)
        item.delivered += take
        handed[item.sku] = handed.get(item.sku, 0) - take
        taken[item.id or 0] = take
        session.add(item)
    # Planning loads what is still owed: the totals follow the items left.
    order.weight_kg = sum(i.weight_kg * (i.quantity - i.delivered) for i in items)
    order.volume_m3 = sum(i.volume_m3 * (i.quantity - i.delivered) for i in items)
    return taken


def _back_to_planning(
    session: Session, order: Order, entry: LedgerEntry, again: dt.date, kind: str
) -> None:
    previous = {"date": order.date.isoformat(), "priority": order.priority}
    order.date = max(again, entry.date + dt.timedelta(days=1))
    if order.latest_date is not None and order.latest_date < order.date:
        # The customer missed the agreed visit: their new date is the new window.
        order.latest_date = order.date
    order.priority = min(order.priority + 1, MAX_PRIORITY)
    _change(session, order, entry, kind, OrderStatus.FAILED, previous)


def _change(
    session: Session,
    order: Order,
    entry: LedgerEntry,
    kind: str,
    status: OrderStatus,
    previous: dict[str, object] | None = None,
) -> None:
    order.status = status
    order.updated_at = utcnow()
    detail = {"record": entry.id, "date": entry.date.isoformat(), **(previous or {})}
    if entry.kind == Kind.FAILED:
        detail |= {k: entry.payload[k] for k in ("reason", "outcome", "storage_place")}
    session.add(order)
    session.add(OrderEvent(order_id=order.id or 0, kind=kind, by=entry.by, detail=detail))

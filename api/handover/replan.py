"""What a delivery outcome does to its order: delivered, or back to planning with a higher
priority. Runs in the same transaction as the record, so neither is stored without the other."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from api.auth.models import utcnow
from api.orders.models import Order, OrderEvent, OrderItem, OrderStatus
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from optimizer.settings import DispatchSettings

MAX_PRIORITY = 10


def next_planning_date(settings: DispatchSettings, now: dt.datetime) -> dt.date:
    """The date of the next plan still to be made: tomorrow's is made at planning time."""
    days = 1 if now.time() < settings.planning_time else 2
    return now.date() + dt.timedelta(days=days)


def apply_outcome(session: Session, entry: LedgerEntry, *, next_date: dt.date) -> None:
    """Delivered in full: done. Partly delivered or failed: planned again, priority raised."""
    order = session.get(Order, entry.order_id, with_for_update=True)
    if order is None:
        return
    if entry.kind == Kind.DELIVERED:
        _record_counts(session, order, entry)
        if entry.payload["complete"]:
            _change(session, order, entry, "delivered", OrderStatus.DELIVERED)
            return
        _back_to_planning(session, order, entry, next_date, "partially_delivered")
    elif entry.kind == Kind.FAILED:
        again = dt.date.fromisoformat(entry.payload["replanned_for"])
        _back_to_planning(session, order, entry, again, "failed")


def _record_counts(session: Session, order: Order, entry: LedgerEntry) -> None:
    handed = {line["sku"]: line["quantity"] for line in entry.payload["counts"]}
    items = session.exec(select(OrderItem).where(OrderItem.order_id == order.id)).all()
    for item in items:
        take = min(handed.get(item.sku, 0), item.quantity - item.delivered)
        item.delivered += take
        handed[item.sku] = handed.get(item.sku, 0) - take
        session.add(item)
    # Planning loads what is still owed: the totals follow the items left.
    order.weight_kg = sum(i.weight_kg * (i.quantity - i.delivered) for i in items)
    order.volume_m3 = sum(i.volume_m3 * (i.quantity - i.delivered) for i in items)


def _back_to_planning(
    session: Session, order: Order, entry: LedgerEntry, again: dt.date, kind: str
) -> None:
    previous = {"date": order.date.isoformat(), "priority": order.priority}
    order.date = max(again, entry.date + dt.timedelta(days=1))
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

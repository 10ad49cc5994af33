"""A day's ticket visits as the ledger tells them: arrival, signed report, any approval and the
fee collected; and so what each visit was charged. The reconciliation, the daily report and
the technician's daily work report all read the visits from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from api.orders.models import Order, OrderEvent
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries
from api.tickets.models import Ticket

# Kinds that put a visit's fee off to a later day: a product taken back for repair is charged
# on the day it is returned (服务作业程序, article 8), at the visit its GOODS_OUT states.
DEFERRING_KINDS: frozenset[str] = frozenset({Kind.GOODS_IN})
VISIT_KINDS = (
    Kind.ARRIVED,
    Kind.SERVICE_REPORT,
    Kind.FEE_APPROVED,
    Kind.FEE_COLLECTED,
    Kind.GOODS_OUT,
)


class Charge(StrEnum):
    PAID = "paid"  # the fee is collected
    WARRANTY = "warranty"  # free: under warranty on the day
    WAIVED = "waived"  # free: a manager waived the fee
    DEFERRED = "deferred"  # charged on a later day (taken back for repair)
    OPEN = "open"  # no signed report yet: the visit is not over
    UNCOLLECTED = "uncollected"  # paid, reported, and no fee collected: finance must know
    UNKNOWN = "unknown"  # the ticket has no warranty card: no fee rule applies


@dataclass(slots=True)
class VisitFee:
    date: dt.date
    order: Order
    ticket: Ticket
    vehicle_code: str
    arrived: LedgerEntry | None = None
    reported: LedgerEntry | None = None
    approval: LedgerEntry | None = None
    collection: LedgerEntry | None = None
    deferred: bool = False
    returned: LedgerEntry | None = None  # goods taken back, returned: the repair's charge

    @property
    def charge(self) -> Charge:
        until = self.ticket.warranty_until
        if self.collection is not None:
            return Charge.PAID
        if self.returned is not None:
            return self._return_charge()
        if until is None:
            return Charge.UNKNOWN
        if self.date <= until:
            return Charge.WARRANTY
        if self.approval is not None and self.approval.payload.get("discount_fen") is None:
            return Charge.WAIVED
        if self.deferred:
            return Charge.DEFERRED
        return Charge.OPEN if self.reported is None else Charge.UNCOLLECTED

    def _return_charge(self) -> Charge:
        """A return is judged by the charge its GOODS_OUT stated, warranty card or not."""
        assert self.returned is not None
        if self.returned.payload["charge"]["amount_fen"] == 0:
            return Charge.WARRANTY
        if self.approval is not None and self.approval.payload.get("discount_fen") is None:
            return Charge.WAIVED
        return Charge.UNCOLLECTED  # the return comes after the signed report

    def add(self, row: LedgerEntry) -> None:
        if row.kind == Kind.ARRIVED:
            self.arrived = self.arrived or row  # the first arrival starts the time on site
        elif row.kind == Kind.SERVICE_REPORT:
            self.reported = row
        elif row.kind == Kind.FEE_APPROVED:
            self.approval = row
        elif row.kind == Kind.FEE_COLLECTED:
            self.collection = row
        elif row.kind == Kind.GOODS_OUT:
            self.returned = row
        else:
            self.deferred = True
        self.vehicle_code = row.vehicle_code or self.vehicle_code


def visit_fees(session: Session, *, area: str, date: dt.date) -> list[VisitFee]:
    """Every ticket visit of the area's day with a record, in the order first recorded."""
    kinds = (*VISIT_KINDS, *DEFERRING_KINDS)
    rows = list(effective(entries(session, area=area, date=date, kinds=kinds)))
    ids = list(dict.fromkeys(row.order_id for row in rows if row.order_id is not None))
    tickets = tickets_of_visits(session, ids)
    orders = {o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(list(tickets))))}
    visits: dict[int, VisitFee] = {}
    for row in rows:
        if row.order_id not in tickets:
            continue  # a delivery, not a ticket's visit
        if row.order_id not in visits:
            visits[row.order_id] = VisitFee(
                date, orders[row.order_id], tickets[row.order_id], row.vehicle_code
            )
        visits[row.order_id].add(row)
    return list(visits.values())


def tickets_of_visits(session: Session, order_ids: Iterable[int]) -> dict[int, Ticket]:
    """Order id -> the ticket it is a visit of, for those orders that are ticket visits: the
    ticket's current visit, or an earlier one named by the order's creation."""
    ids = list(order_ids)
    if not ids:
        return {}
    current = select(Ticket).where(col(Ticket.visit_order_id).in_(ids))
    found = {ticket.visit_order_id: ticket for ticket in session.exec(current)}
    created = session.exec(
        select(OrderEvent).where(col(OrderEvent.order_id).in_(ids), OrderEvent.kind == "created")
    )
    named = {e.order_id: e.detail["ticket"] for e in created if "ticket" in e.detail}
    named = {order: name for order, name in named.items() if order not in found}
    if named:
        query = select(Ticket).where(col(Ticket.external_id).in_(list(set(named.values()))))
        by_name = {ticket.external_id: ticket for ticket in session.exec(query)}
        found |= {order: by_name[name] for order, name in named.items() if name in by_name}
    return {order: ticket for order, ticket in found.items() if order is not None}


def uncollected(visits: Iterable[VisitFee]) -> dict[str, list[str]]:
    """Vehicle code -> tickets whose paid visit was reported with no fee collected."""
    found: dict[str, list[str]] = {}
    for visit in visits:
        if visit.charge is Charge.UNCOLLECTED:
            found.setdefault(visit.vehicle_code, []).append(visit.ticket.external_id)
    return found

"""Paid and free service (售后服务管理制度, items 4 and 10; 服务作业程序, articles 5 and 8).

Under warranty a visit is free; otherwise the fee is the price list's labour for the service
type plus its parts. Only a manager lowers or waives it, as a FEE_APPROVED entry naming the
approver and the reason; the technician then collects exactly the quote less the approved
discount, as a FEE_COLLECTED entry in the day's chain. Cash fees ride on board with the
delivery cash until handed to finance, and the day's reconciliation covers them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api.areas.scope import local_settings
from api.auth.service import Principal
from api.cash.ledger import crew_cash, fen, yuan
from api.cash.models import PaymentMethod, cny
from api.cash.service import arrived_first, cash_cap_fen, under_cap
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.errors import Conflict, Forbidden, RuleBroken
from api.fees.models import (
    ApprovalKind,
    FeeApprovalCreate,
    FeeApprovalPublic,
    FeeCollectionCreate,
    FeeCollectionPublic,
    PartUse,
    Quote,
    QuoteLine,
)
from api.fees.returns import require_goods_back, return_quote
from api.fleet.service import crews_on
from api.orders.models import Order
from api.records.access import planned_stop, require_own_crew
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append, effective, entries
from api.tickets.models import Ticket, TicketServiceType
from api.tickets.service import check_ticket_scope
from api.tickets.warranty import warranty_until


def quote_for(
    session: Session,
    *,
    settings: ServiceSettings,
    ticket: Ticket,
    parts: Sequence[PartUse],
    labour_service_type: TicketServiceType,
    on: dt.date,
) -> Quote:
    """The fee of a visit to `ticket` on day `on`: nothing under warranty, else the labour of
    `labour_service_type` plus the parts at list price. `settings` are the chain's; the
    ticket's area may set its own."""
    local = local_settings(session=session, settings=settings, area=ticket.area_code)
    until = warranty_until(ticket, local)
    if until is None:
        raise RuleBroken(
            f"ticket {ticket.id} has no warranty card yet: set its product_type and "
            "purchase_date before quoting",
            field="purchase_date" if ticket.product_type else "product_type",
            rule="warranty_card",
        )
    labour = local.labour_cny.get(labour_service_type.value)
    if labour is None:
        raise RuleBroken(
            f"the price list has no labour for {labour_service_type.value} (labour_cny)",
            field="service_type",
            rule="priced_service",
        )
    free = on <= until
    lines = tuple(quote_line(local, part, free) for part in merged_parts(parts))
    if free:
        reason = (
            f"under warranty until {until} ({ticket.product_type}, bought {ticket.purchase_date})"
        )
    else:
        reason = f"warranty ended {until}: labour for {labour_service_type.value} and parts"
    return Quote(
        ticket_id=ticket.id or 0,
        service_type=labour_service_type.value,
        on=on,
        under_warranty=free,
        warranty_until=until,
        labour_fen=0 if free else fen(labour),
        lines=lines,
        reason=reason,
    )


def merged_parts(parts: Sequence[PartUse]) -> list[PartUse]:
    """One line per part code, so HINGE×1 twice is HINGE×2 on the quote."""
    counts: dict[str, int] = {}
    for part in parts:
        counts[part.code] = counts.get(part.code, 0) + part.quantity
    return [PartUse(code=code, quantity=n) for code, n in counts.items()]


def quote_line(settings: ServiceSettings, part: PartUse, free: bool) -> QuoteLine:
    listed = settings.parts.get(part.code)
    if listed is None:
        known = ", ".join(sorted(settings.parts))
        raise RuleBroken(
            f"part {part.code!r} is not on the price list; one of: {known}",
            field="parts",
            rule="known_part",
        )
    unit = 0 if free else fen(listed.price_cny)
    return QuoteLine(code=part.code, name=listed.name, unit_fen=unit, quantity=part.quantity)


@dataclass(frozen=True, slots=True)
class Visit:
    """A ticket's visit on the published plan of a day: who makes it, in which chain."""

    ticket: Ticket
    order: Order
    vehicle_code: str
    date: dt.date

    @property
    def area(self) -> str:
        return self.order.area_code

    def rows(self, session: Session, *kinds: str) -> list[LedgerEntry]:
        found = entries(session, area=self.area, date=self.date, order_id=self.order.id)
        return [row for row in effective(found) if not kinds or row.kind in kinds]

    def entry(self, kind: Kind, payload: dict[str, Any]) -> NewEntry:
        """A record of this visit in its day's chain, the technician's."""
        return NewEntry(
            date=self.date,
            kind=kind,
            vehicle_code=self.vehicle_code,
            order_id=self.order.id,
            payload=payload,
        )


def visit_on(*, session: Session, principal: Principal, ticket_id: int, date: dt.date) -> Visit:
    """The ticket's current visit (its first, or the return after a take-back repair) as
    published for `date`; the ticket's area must be in the key's scope."""
    ticket = check_ticket_scope(session=session, ticket_id=ticket_id, principal=principal)
    if ticket.visit_order_id is None:
        raise RuleBroken(
            f"ticket {ticket_id} has no visit scheduled (POST /tickets/{ticket_id}/schedule)",
            field="ticket_id",
            rule="visit_scheduled",
        )
    order = get_or_404(session, Order, "order", id=ticket.visit_order_id)
    stop = planned_stop(session, order, date)
    return Visit(ticket=ticket, order=order, vehicle_code=stop.vehicle_code, date=date)


def quote(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    ticket_id: int,
    parts: Sequence[PartUse],
    on: dt.date | None,
) -> Quote:
    """A ticket's quote for its service type; on its agreed on-site day unless `on` is named."""
    ticket = check_ticket_scope(session=session, ticket_id=ticket_id, principal=principal)
    # A technician quotes the tickets assigned to them; the desk, any in its scope.
    require_own_crew(principal, ticket.vehicle_code or "(none)", reading=True)
    if ticket.service_type is None:
        raise RuleBroken(
            f"ticket {ticket_id} has no service_type", field="service_type", rule="priced_service"
        )
    day = on or _agreed_day(session, settings, ticket)
    return quote_for(
        session,
        settings=settings,
        ticket=ticket,
        parts=parts,
        labour_service_type=ticket.service_type,
        on=day,
    )


def _agreed_day(session: Session, settings: ServiceSettings, ticket: Ticket) -> dt.date:
    if ticket.on_site_at is None:
        raise RuleBroken(
            f"ticket {ticket.id} has no on_site_at; name the service day as `on`",
            field="on",
            rule="service_day",
        )
    local = local_settings(session=session, settings=settings, area=ticket.area_code)
    return ticket.on_site_at.astimezone(ZoneInfo(local.timezone)).date()


def approve(
    *,
    session: Session,
    principal: Principal,
    idempotency_key: str,
    date: dt.date,
    ticket_id: int,
    body: FeeApprovalCreate,
) -> tuple[FeeApprovalPublic, bool]:
    """A manager's discount or waiver of the visit's fee, stored once and never changed."""
    visit = visit_on(session=session, principal=principal, ticket_id=ticket_id, date=date)
    crew = [
        member.name for member in crews_on(session=session, date=date).get(visit.vehicle_code, [])
    ]
    if principal.name in crew:
        raise Forbidden(
            f"{principal.name} is on {visit.vehicle_code}'s crew: a technician's fee is approved "
            "by another manager",
            rule="own_approval",
        )
    discount = fen(body.discount_cny) if body.discount_cny is not None else None

    def build(locked: Session) -> NewEntry:
        if visit.rows(locked, Kind.FEE_APPROVED):
            raise Conflict(
                f"ticket {ticket_id}'s fee of {date} is already approved; an approval is never "
                "changed",
                field="ticket_id",
            )
        if visit.rows(locked, Kind.FEE_COLLECTED):
            raise Conflict(f"ticket {ticket_id}'s fee of {date} is already collected")
        payload = {
            "ticket_id": ticket_id,
            "ticket": visit.ticket.external_id,
            "approval": body.kind.value,
            "discount_fen": discount,
            "reason": body.reason,
            "approved_by": principal.name,
        }
        return visit.entry(Kind.FEE_APPROVED, payload)

    request = {"op": "fee_approval", "date": date.isoformat(), "ticket_id": ticket_id}
    request |= {"kind": body.kind.value, "discount_fen": discount, "reason": body.reason}
    entry, created = append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request=request,
        date=date,
        area=visit.area,
        build=build,
    )
    return approval_public(entry), created


def approval_public(entry: LedgerEntry) -> FeeApprovalPublic:
    off = entry.payload.get("discount_fen")
    return FeeApprovalPublic(
        id=entry.id or 0,
        date=entry.date,
        ticket_id=entry.payload["ticket_id"],
        vehicle_code=entry.vehicle_code,
        kind=ApprovalKind(entry.payload["approval"]),
        discount_cny=None if off is None else cny(off),
        reason=entry.payload["reason"],
        approved_by=entry.payload["approved_by"],
        recorded_at=entry.recorded_at,
        hash=entry.hash,
    )


def discount_fen(approval: LedgerEntry | None, total: int) -> int:
    """What an approval takes off a fee of `total`: all of it for a waiver."""
    if approval is None:
        return 0
    off = approval.payload.get("discount_fen")
    return total if off is None else min(int(off), total)


def collect(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    idempotency_key: str,
    date: dt.date,
    ticket_id: int,
    body: FeeCollectionCreate,
) -> tuple[FeeCollectionPublic, bool]:
    """The fee taken on site after the arrival: exactly the quote less any approved discount."""
    visit = visit_on(session=session, principal=principal, ticket_id=ticket_id, date=date)
    require_own_crew(principal, visit.vehicle_code)
    amount = fen(body.amount_cny)
    local = local_settings(session=session, settings=settings, area=visit.area)
    cap = cash_cap_fen(session=session, settings=local, vehicle_code=visit.vehicle_code)

    def build(locked: Session) -> NewEntry:
        rows = visit.rows(locked)
        arrived_first(rows, visit.order.external_id, field="ticket_id")
        if any(row.kind == Kind.FEE_COLLECTED for row in rows):
            raise Conflict(f"ticket {ticket_id}'s fee of {date} is already collected")
        priced = return_quote(rows, ticket=visit.ticket, date=date, parts=body.parts)
        if priced is None:
            require_goods_back(locked, visit.ticket)
            # A visit is booked only for a ticket with its service type (require_dispatchable).
            service_type = visit.ticket.service_type or TicketServiceType.REPAIR
            priced = quote_for(
                locked,
                settings=settings,
                ticket=visit.ticket,
                parts=body.parts,
                labour_service_type=service_type,
                on=date,
            )
        approval = next((row for row in reversed(rows) if row.kind == Kind.FEE_APPROVED), None)
        off = discount_fen(approval, priced.total_fen)
        _exactly_due(priced, off, amount, approval)
        if body.method is PaymentMethod.CASH:
            cash = crew_cash(locked, area=visit.area, date=date, vehicle_code=visit.vehicle_code)
            under_cap(date, visit.vehicle_code, cash.on_board, amount, cap)
        payload = _collection_payload(priced, approval, off, amount, body)
        return visit.entry(Kind.FEE_COLLECTED, payload)

    request = {"op": "fee_collection", "date": date.isoformat(), "ticket_id": ticket_id}
    fields = body.model_dump(mode="json")
    fields["amount_fen"] = fen(fields.pop("amount_cny"))
    entry, created = append(
        session,
        principal=principal,
        idempotency_key=idempotency_key,
        request=request | fields,
        date=date,
        area=visit.area,
        build=build,
    )
    return collection_public(entry), created


def _exactly_due(quote: Quote, off: int, amount: int, approval: LedgerEntry | None) -> None:
    due = quote.total_fen - off
    if due == 0:
        waived = not quote.under_warranty and approval is not None
        why = f"waived by {approval.by}" if waived and approval else quote.reason
        raise RuleBroken(f"nothing to collect: {why}", field="amount_cny", rule="nothing_due")
    if amount < due and approval is None:
        raise RuleBroken(
            f"{yuan(amount)} is less than the fee of {yuan(due)}: a discount or waiver needs a "
            "manager's approval first (POST /fees/{date}/tickets/{id}/approval)",
            field="amount_cny",
            rule="discount_needs_approval",
        )
    if amount != due:
        less = f" less {yuan(off)} approved" if off else ""
        raise RuleBroken(
            f"the fee is {yuan(due)}: labour {yuan(quote.labour_fen)} + parts "
            f"{yuan(quote.parts_fen)}{less}; collected {yuan(amount)}",
            field="amount_cny",
            rule="amount_is_fee",
        )


def _collection_payload(
    quote: Quote,
    approval: LedgerEntry | None,
    off: int,
    amount: int,
    body: FeeCollectionCreate,
) -> dict[str, Any]:
    lines = [
        {"code": line.code, "name": line.name, "unit_fen": line.unit_fen, "quantity": line.quantity}
        for line in quote.lines
    ]
    return {
        "ticket_id": quote.ticket_id,
        "amount_fen": amount,
        "method": body.method.value,
        "at": body.at.isoformat() if body.at else None,
        "service_type": quote.service_type,
        "labour_fen": quote.labour_fen,
        "parts": lines,
        "parts_fen": quote.parts_fen,
        "quote_fen": quote.total_fen,
        "discount_fen": off,
        "approval": approval.id if approval else None,
    }


def collection_public(entry: LedgerEntry) -> FeeCollectionPublic:
    p = entry.payload
    return FeeCollectionPublic(
        **FeeCollectionPublic.entry_fields(entry),
        ticket_id=p["ticket_id"],
        method=PaymentMethod(p["method"]),
        labour_cny=cny(p["labour_fen"]),
        parts_cny=cny(p["parts_fen"]),
        quote_cny=cny(p["quote_fen"]),
        discount_cny=cny(p["discount_fen"]),
        approval_id=p["approval"],
    )

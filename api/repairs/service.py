"""The register of goods taken back (客户商品进出登记簿): each step one ledger entry, in order.

A step is checked under the lock of its area's chain of the day, appended, and the register
row moved on in the same transaction; a retry with the same Idempotency-Key returns what the
first call stored. Taking goods back and giving them back both need the customer's signature
on a service report of the ticket's own visit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, SQLModel, col, func, select

from api.areas.scope import check_scope, local_settings
from api.auth.models import Role
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.errors import Conflict, Forbidden, RuleBroken
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append
from api.repairs.models import (
    GoodsStatus,
    TakeBack,
    TakeBackCreate,
    TakeBackPublic,
)
from api.tickets.models import Ticket, TicketStatus
from api.tickets.service import (
    check_ticket_scope,
    get_ticket,
    visit_order_ids,
)

# Each step: the statuses it may follow, and where it leaves the goods.
STEPS: dict[Kind, tuple[tuple[GoodsStatus, ...], GoodsStatus]] = {
    Kind.REPAIR_CARD: ((GoodsStatus.IN,), GoodsStatus.REPAIRED),
    Kind.GOODS_INSPECTED: ((GoodsStatus.REPAIRED,), GoodsStatus.INSPECTED),
    # The customer may choose another time: booking again moves the same visit.
    Kind.REPAIR_RETURN_BOOKED: (
        (GoodsStatus.INSPECTED, GoodsStatus.RETURN_BOOKED),
        GoodsStatus.RETURN_BOOKED,
    ),
    Kind.GOODS_OUT: ((GoodsStatus.RETURN_BOOKED,), GoodsStatus.OUT),
}
# What a step checks under the lock, given the row: (payload, order id, vehicle code).
Check = Callable[[Session, TakeBack], tuple[dict[str, Any], int | None, str]]
# What a step changes besides the status, in the same transaction.
Apply = Callable[[Session, TakeBack, LedgerEntry], None]


def public(row: TakeBack) -> TakeBackPublic:
    closed = row.status == GoodsStatus.OUT
    return TakeBackPublic.model_validate(row, update={"receipt_closed": closed})


def area_today(session: Session, settings: ServiceSettings, area: str, now: dt.datetime) -> dt.date:
    """The date on the area's own clock: its register and its chain of the day."""
    local = local_settings(session=session, settings=settings, area=area)
    return now.astimezone(ZoneInfo(local.timezone)).date()


def scoped(session: Session, take_back_id: int, principal: Principal) -> TakeBack:
    """The register row, if the key's scope holds its area (403 otherwise)."""
    row = get_or_404(session, TakeBack, "take-back", id=take_back_id)
    check_scope(principal, row.area_code)
    return row


def signed_report(
    session: Session, ticket: Ticket, report_id: int, principal: Principal
) -> LedgerEntry:
    """The service report the customer signed at one of the ticket's visits, by this key's
    own crew when the key is a technician's."""
    report = session.get(LedgerEntry, report_id)
    if report is None or report.kind != Kind.SERVICE_REPORT:
        raise RuleBroken(
            f"ledger entry {report_id} is not a service report the customer signed",
            field="service_report_id",
            rule="customer_signature",
        )
    if not report.payload.get("signature_sha256") or report.area_code != ticket.area_code:
        raise RuleBroken(
            f"service report {report_id} carries no signature of this ticket's customer",
            field="service_report_id",
            rule="customer_signature",
        )
    if report.order_id not in visit_order_ids(session, ticket):
        raise RuleBroken(
            f"service report {report_id} was signed at another visit than ticket {ticket.id}'s",
            field="service_report_id",
            rule="own_visit",
        )
    if principal.role is Role.DRIVER and principal.vehicle_code != report.vehicle_code:
        raise Forbidden(f"only the technician of {report.vehicle_code} records this visit's goods")
    return report


def signature(report: LedgerEntry) -> dict[str, Any]:
    return {
        "service_report_id": report.id,
        "signer_name": report.payload.get("signer_name", ""),
        "signature_sha256": report.payload["signature_sha256"],
    }


def take_back(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    body: TakeBackCreate,
    now: dt.datetime,
) -> tuple[TakeBackPublic, bool]:
    """Goods taken back at a ticket's visit: a numbered receipt, the register's first line."""
    ticket = check_ticket_scope(session=session, ticket_id=body.ticket_id, principal=principal)
    report = signed_report(session, ticket, body.service_report_id, principal)
    date = area_today(session, settings, ticket.area_code, now)

    def register(locked: Session, entry: LedgerEntry) -> None:
        locked.add(_register_row(body, entry, ticket=ticket, now=now))
        locked.flush()  # a receipt number taken meanwhile fails here, and the append retries

    entry, created = append(
        session,
        principal=principal,
        idempotency_key=key,
        request={"action": "take_back", **_body(body)},
        date=date,
        area=ticket.area_code,
        build=lambda locked: _goods_in(locked, body, report, ticket_id=ticket.id or 0, date=date),
        follow_up=register,
    )
    row = get_or_404(session, TakeBack, "take-back", receipt_no=entry.payload["receipt_no"])
    return public(row), created


def _goods_in(
    session: Session, body: TakeBackCreate, report: LedgerEntry, *, ticket_id: int, date: dt.date
) -> NewEntry:
    """The register's first entry, numbered under the chain's lock; never at a closed ticket."""
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(
            f"ticket {ticket.id} is closed; goods are taken back at an open ticket's visit",
            field="ticket_id",
            rule="open_ticket",
        )
    fields = body.model_dump(mode="json", exclude={"ticket_id", "service_report_id"})
    payload = {"receipt_no": _receipt_no(session, ticket.area_code, date.year), **fields}
    payload |= {"ticket": ticket.external_id, **signature(report)}
    return NewEntry(
        date=date,
        kind=Kind.GOODS_IN,
        vehicle_code=report.vehicle_code,
        order_id=report.order_id,
        payload=payload,
    )


def _register_row(
    body: TakeBackCreate, entry: LedgerEntry, *, ticket: Ticket, now: dt.datetime
) -> TakeBack:
    receipt_no = entry.payload["receipt_no"]
    return TakeBack.model_validate(
        body,
        update={
            "receipt_no": receipt_no,
            "area_code": entry.area_code,
            "year": entry.date.year,
            "seq": int(receipt_no.rsplit("-", 1)[1]),
            "customer_name": ticket.customer_name or "",
            "customer_phone": ticket.customer_phone or "",
            "vehicle_code": entry.vehicle_code,
            "taken_on": entry.date,
            "taken_at": now,
            "entries": {Kind.GOODS_IN.value: entry.id},
            # The receipt shows the ticket's warranty where it has a card; the return day
            # judges it again (api.repairs.charge).
            "under_warranty": body.under_warranty
            if ticket.under_warranty is None
            else ticket.under_warranty,
        },
    )


def _receipt_no(session: Session, area: str, year: int) -> str:
    """The area's next receipt number of the year: CD-2026-000123 for area cd."""
    query = select(func.max(TakeBack.seq)).where(TakeBack.area_code == area, TakeBack.year == year)
    seq = int(session.exec(query).one() or 0) + 1
    return f"{area.upper()}-{year}-{seq:06d}"


@dataclass(frozen=True, slots=True)
class StepCall:
    """Who moves which goods on, as of when, under which Idempotency-Key."""

    session: Session
    settings: ServiceSettings
    principal: Principal
    key: str
    take_back_id: int
    now: dt.datetime


def advance(
    call: StepCall,
    kind: Kind,
    body: SQLModel,
    check: Check,
    apply: Apply | None = None,
    on: dt.date | None = None,
) -> tuple[TakeBackPublic, bool]:
    """One register step after the first, in the chain of day `on` (default: the area's
    today): in order, or a 409 naming the rule."""
    row = scoped(call.session, call.take_back_id, call.principal)
    date = on or area_today(call.session, call.settings, row.area_code, call.now)
    allowed, after = STEPS[kind]

    def build(locked: Session) -> NewEntry:
        current = _locked(locked, call.take_back_id)
        if current.status not in allowed:
            names = ", ".join(status.value for status in allowed)
            raise Conflict(
                f"receipt {current.receipt_no}: the goods are {current.status.value}; "
                f"{kind.value} comes only after {names}",
                field="status",
                rule="register_order",
            )
        payload, order_id, vehicle = check(locked, current)
        payload = {"receipt_no": current.receipt_no, "take_back_id": current.id, **payload}
        return NewEntry(
            date=date, kind=kind, vehicle_code=vehicle, order_id=order_id, payload=payload
        )

    def move_on(locked: Session, entry: LedgerEntry) -> None:
        current = _locked(locked, call.take_back_id)
        current.status = after
        current.entries = {**current.entries, kind.value: entry.id or 0}
        locked.add(current)
        if apply is not None:
            apply(locked, current, entry)

    _, created = append(
        call.session,
        principal=call.principal,
        idempotency_key=call.key,
        request={"action": kind.value, "take_back": call.take_back_id, **_body(body)},
        date=date,
        area=row.area_code,
        build=build,
        follow_up=move_on,
    )
    call.session.refresh(row)
    return public(row), created


def _locked(session: Session, take_back_id: int) -> TakeBack:
    query = select(TakeBack).where(TakeBack.id == take_back_id).with_for_update()
    row = session.exec(query.execution_options(populate_existing=True)).first()
    assert row is not None  # rows are never deleted
    return row


def _body(body: SQLModel) -> dict[str, Any]:
    return {"body": body.model_dump(mode="json")}


def held(session: Session, *, areas: Sequence[str], everything: bool) -> list[TakeBack]:
    """The register's rows of `areas`, the goods still held only unless `everything`."""
    query = select(TakeBack).where(col(TakeBack.area_code).in_(areas))
    if not everything:
        query = query.where(TakeBack.status != GoodsStatus.OUT)
    return list(session.exec(query.order_by(col(TakeBack.taken_on), col(TakeBack.id))))

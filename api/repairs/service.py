"""The register of goods taken back (客户商品进出登记簿): each step one ledger entry, in order.

A step is checked under the lock of its area's chain of the day, appended, and the register
row moved on in the same transaction; a retry with the same Idempotency-Key returns what the
first call stored. Taking goods back and giving them back both need the customer's signature
on a service report of the ticket's own visit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect
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
from api.repairs.charge import check_parts, repair_charge
from api.repairs.models import (
    GoodsStatus,
    InspectionCreate,
    RepairCardCreate,
    ReturnCreate,
    ReturnVisitCreate,
    TakeBack,
    TakeBackCreate,
    TakeBackPublic,
)
from api.tickets import visits
from api.tickets.models import Ticket, TicketEventKind, TicketStatus
from api.tickets.service import (
    add_event,
    check_ticket_scope,
    get_ticket,
    require_dispatchable,
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


def _signed_report(
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


def _signature(report: LedgerEntry) -> dict[str, Any]:
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
    report = _signed_report(session, ticket, body.service_report_id, principal)
    area = ticket.area_code
    date = area_today(session, settings, area, now)

    def build(locked: Session) -> NewEntry:
        current = get_ticket(session=locked, ticket_id=ticket.id or 0, lock=True)
        if current.status == TicketStatus.CLOSED:
            raise Conflict(
                f"ticket {current.id} is closed; goods are taken back at an open ticket's visit",
                field="ticket_id",
                rule="open_ticket",
            )
        fields = body.model_dump(mode="json", exclude={"ticket_id", "service_report_id"})
        payload = {"receipt_no": _receipt_no(locked, area, date.year), **fields}
        payload |= {"ticket": current.external_id, **_signature(report)}
        return NewEntry(
            date=date,
            kind=Kind.GOODS_IN,
            vehicle_code=report.vehicle_code,
            order_id=report.order_id,
            payload=payload,
        )

    def register(locked: Session, entry: LedgerEntry) -> None:
        receipt_no = entry.payload["receipt_no"]
        row = TakeBack.model_validate(
            body,
            update={
                "receipt_no": receipt_no,
                "area_code": area,
                "year": date.year,
                "seq": int(receipt_no.rsplit("-", 1)[1]),
                "customer_name": ticket.customer_name or "",
                "customer_phone": ticket.customer_phone or "",
                "vehicle_code": report.vehicle_code,
                "taken_on": date,
                "taken_at": now,
                "entries": {Kind.GOODS_IN.value: entry.id},
            },
        )
        locked.add(row)
        locked.flush()  # a receipt number taken meanwhile fails here, and the append retries

    request = {"action": "take_back", **_body(body)}
    entry, created = append(
        session,
        principal=principal,
        idempotency_key=key,
        request=request,
        date=date,
        area=area,
        build=build,
        follow_up=register,
    )
    row = get_or_404(session, TakeBack, "take-back", receipt_no=entry.payload["receipt_no"])
    return public(row), created


def _receipt_no(session: Session, area: str, year: int) -> str:
    """The area's next receipt number of the year: CD-2026-000123 for area cd."""
    query = select(func.max(TakeBack.seq)).where(TakeBack.area_code == area, TakeBack.year == year)
    seq = int(session.exec(query).one() or 0) + 1
    return f"{area.upper()}-{year}-{seq:06d}"


def advance(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    take_back_id: int,
    kind: Kind,
    body: SQLModel,
    now: dt.datetime,
    check: Check,
    apply: Apply | None = None,
) -> tuple[TakeBackPublic, bool]:
    """One register step after the first: in order, or a 409 naming the rule."""
    row = scoped(session, take_back_id, principal)
    date = area_today(session, settings, row.area_code, now)
    allowed, after = STEPS[kind]

    def build(locked: Session) -> NewEntry:
        current = _locked(locked, take_back_id)
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
        current = _locked(locked, take_back_id)
        current.status = after
        current.entries = {**current.entries, kind.value: entry.id or 0}
        locked.add(current)
        if apply is not None:
            apply(locked, current, entry)

    request = {"action": kind.value, "take_back": take_back_id, **_body(body)}
    _, created = append(
        session,
        principal=principal,
        idempotency_key=key,
        request=request,
        date=date,
        area=row.area_code,
        build=build,
        follow_up=move_on,
    )
    session.refresh(row)
    return public(row), created


def _locked(session: Session, take_back_id: int) -> TakeBack:
    query = select(TakeBack).where(TakeBack.id == take_back_id).with_for_update()
    row = session.exec(query.execution_options(populate_existing=True)).first()
    assert row is not None  # rows are never deleted
    return row


def repaired(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    take_back_id: int,
    card: RepairCardCreate,
    now: dt.datetime,
) -> tuple[TakeBackPublic, bool]:
    """The repair card (修护卡): hours and parts, who repaired and when."""
    check_parts(settings, (part.code for part in card.parts))
    parts = [part.model_dump() for part in card.parts]

    def check(_: Session, row: TakeBack) -> tuple[dict[str, Any], int | None, str]:
        payload = {**card.model_dump(mode="json"), "repaired_by": principal.name}
        return payload, None, principal.vehicle_code or ""

    def apply(_: Session, row: TakeBack, entry: LedgerEntry) -> None:
        row.repaired_by, row.repaired_key_id = principal.name, principal.key_id
        row.repaired_at = now
        row.labour_hours, row.parts, row.work_done = card.labour_hours, parts, card.work_done

    return advance(
        session=session,
        settings=settings,
        principal=principal,
        key=key,
        take_back_id=take_back_id,
        kind=Kind.REPAIR_CARD,
        body=card,
        now=now,
        check=check,
        apply=apply,
    )


def inspected(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    take_back_id: int,
    inspection: InspectionCreate,
    now: dt.datetime,
) -> tuple[TakeBackPublic, bool]:
    """A supervisor's inspection (主管验讫), never the repairer's own; a failed one sends the
    goods back to be repaired again, with a new repair card."""

    def check(_: Session, row: TakeBack) -> tuple[dict[str, Any], int | None, str]:
        if principal.key_id == row.repaired_key_id or principal.name == row.repaired_by:
            raise Forbidden(
                f"receipt {row.receipt_no} was repaired by {row.repaired_by}; another person "
                "inspects the repair",
                rule="inspector_not_repairer",
            )
        return {**inspection.model_dump(mode="json"), "inspected_by": principal.name}, None, ""

    def apply(_: Session, row: TakeBack, entry: LedgerEntry) -> None:
        if inspection.passed:
            row.inspected_by, row.inspected_at = principal.name, now
        else:
            row.status = GoodsStatus.IN

    return advance(
        session=session,
        settings=settings,
        principal=principal,
        key=key,
        take_back_id=take_back_id,
        kind=Kind.GOODS_INSPECTED,
        body=inspection,
        now=now,
        check=check,
        apply=apply,
    )


def book_return(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    take_back_id: int,
    booking: ReturnVisitCreate,
    now: dt.datetime,
) -> tuple[TakeBackPublic, bool]:
    """The return visit at the time the customer chose, booked as the ticket's next visit
    (api.tickets.visits): the planner routes it like any technician's visit."""

    def check(locked: Session, row: TakeBack) -> tuple[dict[str, Any], int | None, str]:
        ticket = get_ticket(session=locked, ticket_id=row.ticket_id, lock=True)
        ticket.on_site_at = booking.on_site_at
        require_dispatchable(ticket)
        local = local_settings(session=locked, settings=settings, area=row.area_code)
        wanted = visits.visit_fields(session=locked, settings=local, ticket=ticket)
        detail: dict[str, object] = {"fields": ["on_site_at"], "receipt_no": row.receipt_no}
        by = principal.name
        add_event(locked, ticket, TicketEventKind.UPDATED, now=now, by=by, detail=detail)
        window = f"{wanted['window_from']:%H:%M}-{wanted['window_to']:%H:%M}"
        payload = {"on_site_at": booking.on_site_at.isoformat(), "ticket": ticket.external_id}
        payload |= {"date": wanted["date"].isoformat(), "slot": wanted["slot"], "window": window}
        return payload, None, ""

    def apply(locked: Session, row: TakeBack, entry: LedgerEntry) -> None:
        # Scheduling commits the whole step at once: the entry, the row and the visit.
        visits.schedule(
            session=locked, settings=settings, ticket_id=row.ticket_id, now=now, by=principal.name
        )
        if not inspect(entry).persistent:  # scheduling lost a race and rolled everything back
            raise Conflict("the ticket's visit was booked meanwhile; retry with the same key")

    return advance(
        session=session,
        settings=settings,
        principal=principal,
        key=key,
        take_back_id=take_back_id,
        kind=Kind.REPAIR_RETURN_BOOKED,
        body=booking,
        now=now,
        check=check,
        apply=apply,
    )


def returned(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    key: str,
    take_back_id: int,
    body: ReturnCreate,
    now: dt.datetime,
) -> tuple[TakeBackPublic, bool]:
    """The goods back with the customer, who signs the return visit's service report: out of
    the register, the receipt closed, a paid repair charged on the day."""

    def check(locked: Session, row: TakeBack) -> tuple[dict[str, Any], int | None, str]:
        ticket = get_ticket(session=locked, ticket_id=row.ticket_id)
        report = _signed_report(locked, ticket, body.service_report_id, principal)
        taken = locked.get(LedgerEntry, row.entries[Kind.GOODS_IN.value])
        if report.order_id != ticket.visit_order_id or (
            taken is not None and report.order_id == taken.order_id
        ):
            raise RuleBroken(
                f"service report {report.id} is not of the return visit booked for "
                f"receipt {row.receipt_no}",
                field="service_report_id",
                rule="return_visit",
            )
        charge = repair_charge(
            settings,
            under_warranty=row.under_warranty,
            labour_hours=row.labour_hours or 0.0,
            parts=row.parts,
        )
        payload = {**body.model_dump(mode="json"), **_signature(report)}
        payload |= {"receipt": "closed", "under_warranty": row.under_warranty, "charge": charge}
        return payload, report.order_id, report.vehicle_code

    def apply(_: Session, row: TakeBack, entry: LedgerEntry) -> None:
        row.returned_at, row.returned_on, row.return_order_id = now, entry.date, entry.order_id
        row.charge_fen = entry.payload["charge"]["amount_fen"]

    return advance(
        session=session,
        settings=settings,
        principal=principal,
        key=key,
        take_back_id=take_back_id,
        kind=Kind.GOODS_OUT,
        body=body,
        now=now,
        check=check,
        apply=apply,
    )


def _body(body: SQLModel) -> dict[str, Any]:
    return {"body": body.model_dump(mode="json")}


def held(session: Session, *, areas: Sequence[str], everything: bool) -> list[TakeBack]:
    """The register's rows of `areas`, the goods still held only unless `everything`."""
    query = select(TakeBack).where(col(TakeBack.area_code).in_(areas))
    if not everything:
        query = query.where(TakeBack.status != GoodsStatus.OUT)
    return list(session.exec(query.order_by(col(TakeBack.taken_on), col(TakeBack.id))))

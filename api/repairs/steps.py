"""The register's steps after the goods came in: the repair card, the supervisor's
inspection, the return visit booked as the ticket's next visit, and the signed return."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlmodel import Session

from api.areas.scope import local_settings
from api.core.errors import Conflict, Forbidden, RuleBroken
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.repairs.charge import check_parts, repair_quote
from api.repairs.models import (
    GoodsStatus,
    InspectionCreate,
    RepairCardCreate,
    ReturnCreate,
    ReturnVisitCreate,
    TakeBack,
    TakeBackPublic,
)
from api.repairs.service import StepCall, advance, signature, signed_report
from api.tickets import visits
from api.tickets.models import TicketEventKind
from api.tickets.service import add_event, get_ticket, require_dispatchable

# What a step's entry says, and the order and crew it names.
Said = tuple[dict[str, Any], int | None, str]
Done = tuple[TakeBackPublic, bool]


def repaired(call: StepCall, card: RepairCardCreate) -> Done:
    """The repair card (修护卡): hours and parts, who repaired and when."""
    check_parts(call.settings, (part.code for part in card.parts))
    who = call.principal

    def check(_: Session, row: TakeBack) -> Said:
        return (
            {**card.model_dump(mode="json"), "repaired_by": who.name},
            None,
            who.vehicle_code or "",
        )

    def apply(_: Session, row: TakeBack, entry: LedgerEntry) -> None:
        row.repaired_by, row.repaired_key_id, row.repaired_at = who.name, who.key_id, call.now
        row.labour_hours, row.work_done = card.labour_hours, card.work_done
        row.parts = [part.model_dump() for part in card.parts]

    return advance(call, Kind.REPAIR_CARD, card, check, apply)


def inspected(call: StepCall, inspection: InspectionCreate) -> Done:
    """A supervisor's inspection (主管验讫), never the repairer's own; a failed one sends the
    goods back to be repaired again, with a new repair card."""
    who = call.principal

    def check(_: Session, row: TakeBack) -> Said:
        if who.key_id == row.repaired_key_id or who.name == row.repaired_by:
            raise Forbidden(
                f"receipt {row.receipt_no} was repaired by {row.repaired_by}; another person "
                "inspects the repair",
                rule="inspector_not_repairer",
            )
        return {**inspection.model_dump(mode="json"), "inspected_by": who.name}, None, ""

    def apply(_: Session, row: TakeBack, entry: LedgerEntry) -> None:
        if inspection.passed:
            row.inspected_by, row.inspected_at = who.name, call.now
        else:
            row.status = GoodsStatus.IN

    return advance(call, Kind.GOODS_INSPECTED, inspection, check, apply)


def book_return(call: StepCall, booking: ReturnVisitCreate) -> Done:
    """The return visit at the time the customer chose, booked as the ticket's next visit
    (api.tickets.visits): the planner routes it like any technician's visit."""
    by = call.principal.name

    def check(locked: Session, row: TakeBack) -> Said:
        ticket = get_ticket(session=locked, ticket_id=row.ticket_id, lock=True)
        ticket.on_site_at = booking.on_site_at
        require_dispatchable(ticket)
        local = local_settings(session=locked, settings=call.settings, area=row.area_code)
        wanted = visits.visit_fields(session=locked, settings=local, ticket=ticket)
        detail: dict[str, object] = {"fields": ["on_site_at"], "receipt_no": row.receipt_no}
        add_event(locked, ticket, TicketEventKind.UPDATED, now=call.now, by=by, detail=detail)
        window = f"{wanted['window_from']:%H:%M}-{wanted['window_to']:%H:%M}"
        payload = {"on_site_at": booking.on_site_at.isoformat(), "ticket": ticket.external_id}
        payload |= {"date": wanted["date"].isoformat(), "slot": wanted["slot"], "window": window}
        return payload, None, ""

    def apply(locked: Session, row: TakeBack, entry: LedgerEntry) -> None:
        # Scheduling commits the whole step at once: the entry, the row and the visit.
        visits.schedule(
            session=locked, settings=call.settings, ticket_id=row.ticket_id, now=call.now, by=by
        )
        if not inspect(entry).persistent:  # scheduling lost a race and rolled everything back
            raise Conflict("the ticket's visit was booked meanwhile; retry with the same key")

    return advance(call, Kind.REPAIR_RETURN_BOOKED, booking, check, apply)


def returned(call: StepCall, body: ReturnCreate) -> Done:
    """The goods back with the customer, who signs the return visit's service report: out of
    the register, the receipt closed, a paid repair charged on the day."""

    def check(locked: Session, row: TakeBack) -> Said:
        ticket = get_ticket(session=locked, ticket_id=row.ticket_id)
        report = signed_report(locked, ticket, body.service_report_id, call.principal)
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
        # Charged on the return day: what POST /fees/{date}/tickets/{id}/collection expects.
        on = report.date  # the return visit's day
        charge = repair_quote(locked, settings=call.settings, ticket=ticket, row=row, on=on)
        payload = {**body.model_dump(mode="json"), **signature(report)}
        payload |= {"receipt": "closed", "under_warranty": charge.under_warranty}
        payload["charge"] = charge.as_charge()
        return payload, report.order_id, report.vehicle_code

    def apply(_: Session, row: TakeBack, entry: LedgerEntry) -> None:
        row.returned_at, row.returned_on, row.return_order_id = call.now, entry.date, entry.order_id
        row.charge_fen = entry.payload["charge"]["amount_fen"]

    # The return day is the return visit's, whose chain its fee is collected and reconciled
    # in; the report is checked under the lock (signed_report), entries never change.
    report = call.session.get(LedgerEntry, body.service_report_id)
    day = report.date if report is not None else None
    return advance(call, Kind.GOODS_OUT, body, check, apply, on=day)

"""Ticket intake, the status machine and its service-level clocks, and the ticket report."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.core.crud import apply_update, get_or_404
from api.core.errors import Conflict, RuleBroken
from api.core.hashing import digest
from api.fleet.models import Vehicle
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.tickets.models import (
    AssignRequest,
    Breaches,
    CloseRequest,
    ContactRequest,
    EscalationResult,
    Ticket,
    TicketCategory,
    TicketCreate,
    TicketEvent,
    TicketEventKind,
    TicketPublic,
    TicketReport,
    TicketStatus,
    TicketUpdate,
)

# Without these a technician cannot be sent: whom to call, what to fix, what to do, when.
DISPATCH_FIELDS = (
    "customer_name",
    "customer_phone",
    "equipment",
    "service_type",
    "on_site_at",
)
AGE_BUCKETS = ("<12h", "12-24h", "1-3d", ">3d")


def missing_fields(ticket: Ticket) -> list[str]:
    return [name for name in DISPATCH_FIELDS if getattr(ticket, name) in (None, "")]


def public(ticket: Ticket) -> TicketPublic:
    return TicketPublic.model_validate(ticket, update={"missing": missing_fields(ticket)})


def payload_hash(ticket: TicketCreate) -> str:
    """SHA-256 of the canonical JSON, so a retry is recognised whatever its key order."""
    return digest(ticket.model_dump(mode="json"))


def create_ticket(
    *, session: Session, ticket: TicketCreate, now: dt.datetime, by: str
) -> tuple[TicketPublic, bool]:
    """The stored ticket and whether this call created it (False: a retry of the same body)."""
    digest = payload_hash(ticket)
    stored = _find(session, ticket.external_id)
    if stored is None:
        row = Ticket.model_validate(ticket, update={"payload_hash": digest, "opened_at": now})
        try:
            session.add(row)
            session.flush()  # assigns row.id for the event
            _event(session, row, TicketEventKind.OPENED, now=now, by=by)
            session.commit()
            return public(row), True
        except IntegrityError:
            # Two deliveries of the same ticket raced; the loser answers as a retry would.
            session.rollback()
            stored = _find(session, ticket.external_id)
            if stored is None:
                raise
    if stored.payload_hash != digest:
        raise Conflict(
            f"external_id {stored.external_id!r} is already used by a ticket with a different "
            "body; send a new external_id or PATCH the stored ticket",
            field="external_id",
        )
    return public(stored), False


def _find(session: Session, external_id: str) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.external_id == external_id)).first()


def get_ticket(*, session: Session, ticket_id: int, lock: bool = False) -> Ticket:
    if lock:
        # Serialises concurrent transitions on PostgreSQL; SQLite locks on write.
        row = session.exec(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).first()
        if row is not None:
            return row
    return get_or_404(session, Ticket, "ticket", id=ticket_id)


def list_tickets(*, session: Session, status: TicketStatus | None) -> list[TicketPublic]:
    query = select(Ticket).order_by(col(Ticket.id))
    if status is not None:
        query = query.where(Ticket.status == status)
    return [public(row) for row in session.exec(query)]


def _event(
    session: Session,
    ticket: Ticket,
    kind: TicketEventKind,
    *,
    now: dt.datetime,
    by: str,
    detail: dict[str, object] | None = None,
) -> None:
    assert ticket.id is not None
    session.add(TicketEvent(ticket_id=ticket.id, kind=kind, at=now, by=by, detail=detail or {}))


def _expect(ticket: Ticket, allowed: Iterable[TicketStatus], action: str) -> None:
    wanted = tuple(allowed)
    if ticket.status not in wanted:
        names = ", ".join(s.value for s in wanted)
        raise Conflict(
            f"ticket {ticket.id} is {ticket.status.value}; {action} needs status {names}",
            field="status",
        )


def _commit(session: Session, ticket: Ticket) -> TicketPublic:
    session.add(ticket)
    session.commit()
    session.refresh(ticket)
    return public(ticket)


def update_ticket(
    *, session: Session, ticket_id: int, update: TicketUpdate, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"ticket {ticket_id} is closed; it can no longer change", field="status")
    apply_update(ticket, update)
    named = sorted(update.model_dump(exclude_unset=True, exclude_none=True))
    _event(session, ticket, TicketEventKind.UPDATED, now=now, by=by, detail={"fields": named})
    return _commit(session, ticket)


def answer(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.OPEN], "answer")
    ticket.status, ticket.answered_at = TicketStatus.ANSWERED, now
    _event(session, ticket, TicketEventKind.ANSWERED, now=now, by=by)
    return _commit(session, ticket)


def assign(
    *, session: Session, ticket_id: int, request: AssignRequest, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.ANSWERED, TicketStatus.ASSIGNED], "assign")
    if missing := missing_fields(ticket):
        raise RuleBroken(
            f"ticket {ticket_id} is not dispatchable; missing: {', '.join(missing)}",
            field=missing[0],
            rule="dispatchable",
        )
    if session.exec(select(Vehicle).where(Vehicle.code == request.vehicle_code)).first() is None:
        raise RuleBroken(
            f"vehicle {request.vehicle_code!r} is not in the fleet", field="vehicle_code"
        )
    ticket.status, ticket.vehicle_code, ticket.assigned_at = (
        TicketStatus.ASSIGNED,
        request.vehicle_code,
        now,
    )
    # A new technician means a new call to the customer: the contact clock starts again.
    ticket.contacted_at = ticket.estimated_arrival = None
    detail: dict[str, object] = {"vehicle_code": request.vehicle_code}
    _event(session, ticket, TicketEventKind.ASSIGNED, now=now, by=by, detail=detail)
    return _commit(session, ticket)


def contact(
    *, session: Session, ticket_id: int, request: ContactRequest, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.ASSIGNED], "contacting the customer")
    ticket.contacted_at, ticket.estimated_arrival = now, request.estimated_arrival
    detail: dict[str, object] = {"estimated_arrival": request.estimated_arrival.isoformat()}
    _event(session, ticket, TicketEventKind.CONTACTED, now=now, by=by, detail=detail)
    return _commit(session, ticket)


def wait_for_parts(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.ANSWERED, TicketStatus.ASSIGNED], "waiting for parts")
    ticket.status = TicketStatus.WAITING_PARTS
    _event(session, ticket, TicketEventKind.PARTS_WAITING, now=now, by=by)
    return _commit(session, ticket)


def parts_arrived(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.WAITING_PARTS], "marking parts arrived")
    # Schedulable again: it goes back to be assigned, to the same technician or another.
    ticket.status = TicketStatus.ANSWERED
    _event(session, ticket, TicketEventKind.PARTS_ARRIVED, now=now, by=by)
    return _commit(session, ticket)


def visit(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.ASSIGNED], "recording a visit")
    ticket.visits += 1
    _event(
        session, ticket, TicketEventKind.VISITED, now=now, by=by, detail={"visit": ticket.visits}
    )
    return _commit(session, ticket)


def close(
    *, session: Session, ticket_id: int, request: CloseRequest, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.ASSIGNED], "closing")
    undone = [name for name in ("tested", "site_cleaned") if not getattr(request, name)]
    if undone:
        raise RuleBroken(
            f"closing needs the checks done: {', '.join(undone)}", field=undone[0], rule="checks"
        )
    report = session.get(LedgerEntry, request.service_report_id)
    if report is None or report.kind != Kind.SERVICE_REPORT:
        raise RuleBroken(
            f"ledger entry {request.service_report_id} is not a signed service report",
            field="service_report_id",
            rule="service_report",
        )
    ticket.tested, ticket.site_cleaned = True, True
    ticket.service_report_id, ticket.satisfaction = report.id, request.satisfaction
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, now
    _event(session, ticket, TicketEventKind.CLOSED, now=now, by=by, detail={"report": report.id})
    return _commit(session, ticket)


def follow_up(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    _expect(ticket, [TicketStatus.CLOSED], "the follow-up call")
    if ticket.follow_up_done_at is not None:
        raise Conflict(f"ticket {ticket_id}'s follow-up call is already done", field="status")
    ticket.follow_up_done_at = now
    _event(session, ticket, TicketEventKind.FOLLOW_UP_DONE, now=now, by=by)
    return _commit(session, ticket)


def escalate_overdue(*, session: Session, now: dt.datetime, by: str = "") -> EscalationResult:
    """Complaints past their solution's due date go to a manager, each once."""
    query = select(Ticket).where(
        Ticket.category == TicketCategory.COMPLAINT,
        Ticket.status != TicketStatus.CLOSED,
        col(Ticket.escalated).is_(False),
        col(Ticket.solution_due).is_not(None),
        col(Ticket.solution_due) < now,
    )
    escalated: list[int] = []
    for ticket in session.exec(query.order_by(col(Ticket.id)).with_for_update()):
        ticket.escalated, ticket.escalated_at = True, now
        session.add(ticket)
        _event(session, ticket, TicketEventKind.ESCALATED, now=now, by=by)
        assert ticket.id is not None
        escalated.append(ticket.id)
    session.commit()
    return EscalationResult(escalated=escalated)


def _age_bucket(age: dt.timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 12:
        return "<12h"
    if hours < 24:
        return "12-24h"
    return "1-3d" if hours <= 72 else ">3d"


def _late(
    start: dt.datetime | None, end: dt.datetime | None, limit: dt.timedelta, now: dt.datetime
) -> bool:
    """A clock started at start is breached when it stopped, or is still running, past limit."""
    if start is None:
        return False
    return (end or now) - start > limit


def report(*, session: Session, settings: ServiceSettings, now: dt.datetime) -> TicketReport:
    tickets: Sequence[Ticket] = list(session.exec(select(Ticket)))
    ages = dict.fromkeys(AGE_BUCKETS, 0)
    breaches = Breaches()
    answer_limit = dt.timedelta(hours=settings.ticket_answer_hours)
    contact_limit = dt.timedelta(minutes=settings.ticket_contact_minutes)
    follow_limit = dt.timedelta(days=settings.ticket_follow_up_days)
    for t in tickets:
        if t.status != TicketStatus.CLOSED:
            ages[_age_bucket(now - t.opened_at)] += 1
        breaches.answer += _late(t.opened_at, t.answered_at, answer_limit, now)
        breaches.contact += _late(t.assigned_at, t.contacted_at, contact_limit, now)
        breaches.follow_up += _late(t.closed_at, t.follow_up_done_at, follow_limit, now)
    closed = [t for t in tickets if t.status == TicketStatus.CLOSED]
    scores = [t.satisfaction for t in closed if t.satisfaction is not None]
    fixed_first = sum(t.visits == 1 for t in closed)
    return TicketReport(
        as_of=now,
        open_by_age=ages,
        breaches=breaches,
        closed=len(closed),
        first_visit_fix_rate=round(fixed_first / len(closed), 4) if closed else None,
        average_satisfaction=round(statistics.fmean(scores), 2) if scores else None,
    )

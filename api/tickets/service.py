"""Ticket intake and the status machine; its clocks and report are in api.tickets.clocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.areas.scope import check_scope, local_settings, resolve_area, vehicle_area
from api.areas.service import existing_area, order_area
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.crud import apply_update, get_or_404
from api.core.errors import Conflict, RuleBroken
from api.core.hashing import digest
from api.fleet.models import Vehicle
from api.orders.models import Order
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.repairs.models import GoodsStatus, TakeBack
from api.tickets.models import (
    AssignRequest,
    CloseRequest,
    ContactRequest,
    EscalationResult,
    Ticket,
    TicketCategory,
    TicketCreate,
    TicketEvent,
    TicketEventKind,
    TicketPublic,
    TicketStatus,
    TicketUpdate,
)
from api.tickets.warranty import stamp_warranty

# Without these a technician cannot be sent: whom to call, what to fix, what to do, when.
DISPATCH_FIELDS = (
    "customer_name",
    "customer_phone",
    "equipment",
    "service_type",
    "on_site_at",
)


# Where to go: the customer's earlier order, or else all three of these.
PLACE_FIELDS = ("address", "lat", "lon")
# Added after tickets were first stored: left out of the hash while unset, so the retry of a
# ticket stored before them still hashes as it did.
LATER_FIELDS = frozenset({"order_external_id", "product_type", "purchase_date", *PLACE_FIELDS})


def missing_fields(ticket: Ticket) -> list[str]:
    missing = [name for name in DISPATCH_FIELDS if getattr(ticket, name) in (None, "")]
    if not ticket.order_external_id:
        missing += [name for name in PLACE_FIELDS if getattr(ticket, name) in (None, "")]
    return missing


def require_dispatchable(ticket: Ticket) -> None:
    if missing := missing_fields(ticket):
        place = " (or the customer's order_external_id)" if missing[-1] in PLACE_FIELDS else ""
        raise RuleBroken(
            f"ticket {ticket.id} is not dispatchable; missing: {', '.join(missing)}{place}",
            field=missing[0],
            rule="dispatchable",
        )


def public(ticket: Ticket) -> TicketPublic:
    return TicketPublic.model_validate(ticket, update={"missing": missing_fields(ticket)})


def payload_hash(ticket: TicketCreate) -> str:
    """SHA-256 of the canonical JSON, so a retry is recognised whatever its key order."""
    unset = {name for name in (*LATER_FIELDS, "area") if getattr(ticket, name) is None}
    return digest(ticket.model_dump(mode="json", exclude=unset))


def create_ticket(
    *,
    session: Session,
    settings: ServiceSettings,
    ticket: TicketCreate,
    now: dt.datetime,
    principal: Principal,
) -> tuple[TicketPublic, bool]:
    """The stored ticket and whether this call created it (False: a retry of the same body)."""
    digest = payload_hash(ticket)
    stored = _find(session, ticket.external_id)
    if stored is None:
        area = ticket_area(session=session, settings=settings, ticket=ticket, principal=principal)
        update = {"payload_hash": digest, "opened_at": now, "area_code": area}
        row = Ticket.model_validate(ticket, update=update)
        stamp_warranty(row, local_settings(session=session, settings=settings, area=area), now)
        try:
            session.add(row)
            session.flush()  # assigns row.id for the event
            add_event(session, row, TicketEventKind.OPENED, now=now, by=principal.name)
            session.commit()
            return public(row), True
        except IntegrityError:
            # Two deliveries of the same ticket raced; the loser answers as a retry would.
            session.rollback()
            stored = _find(session, ticket.external_id)
            if stored is None:
                raise
    check_scope(principal, stored.area_code)
    if stored.payload_hash != digest:
        raise Conflict(
            f"external_id {stored.external_id!r} is already used by a ticket with a different "
            "body; send a new external_id or PATCH the stored ticket",
            field="external_id",
        )
    return public(stored), False


def ticket_area(
    *, session: Session, settings: ServiceSettings, ticket: TicketCreate, principal: Principal
) -> str:
    """The ticket's area: named, else its earlier order's, else the one serving its address,
    else the key's or the chain's only one; always within the key's scope."""
    if ticket.area is not None:
        check_scope(principal, ticket.area)
        return existing_area(session=session, code=ticket.area)
    area: str | None = None
    if ticket.order_external_id:
        query = select(Order.area_code).where(Order.external_id == ticket.order_external_id)
        area = session.exec(query).first()
    if area is None and ticket.lat is not None and ticket.lon is not None:
        area = order_area(
            session=session, settings=settings, named=None, lat=ticket.lat, lon=ticket.lon
        )
    if area is None:
        area = resolve_area(session=session, principal=principal, area=None)
    check_scope(principal, area)
    return area


def _find(session: Session, external_id: str) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.external_id == external_id)).first()


def check_ticket_scope(*, session: Session, ticket_id: int, principal: Principal) -> Ticket:
    """The ticket, if the key's scope holds its area (403 otherwise)."""
    ticket = get_or_404(session, Ticket, "ticket", id=ticket_id)
    check_scope(principal, ticket.area_code)
    return ticket


def get_ticket(*, session: Session, ticket_id: int, lock: bool = False) -> Ticket:
    if lock:
        # Serialises concurrent transitions on PostgreSQL; SQLite locks on write.
        row = session.exec(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).first()
        if row is not None:
            return row
    return get_or_404(session, Ticket, "ticket", id=ticket_id)


def list_tickets(
    *, session: Session, areas: Sequence[str], status: TicketStatus | None
) -> list[TicketPublic]:
    query = select(Ticket).where(col(Ticket.area_code).in_(areas)).order_by(col(Ticket.id))
    if status is not None:
        query = query.where(Ticket.status == status)
    return [public(row) for row in session.exec(query)]


def add_event(
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


def expect_status(ticket: Ticket, allowed: Iterable[TicketStatus], action: str) -> None:
    wanted = tuple(allowed)
    if ticket.status not in wanted:
        names = ", ".join(s.value for s in wanted)
        raise Conflict(
            f"ticket {ticket.id} is {ticket.status.value}; {action} needs status {names}",
            field="status",
        )


def commit_ticket(session: Session, ticket: Ticket) -> TicketPublic:
    session.add(ticket)
    session.commit()
    session.refresh(ticket)
    return public(ticket)


def update_ticket(
    *,
    session: Session,
    settings: ServiceSettings,
    ticket_id: int,
    update: TicketUpdate,
    now: dt.datetime,
    by: str,
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"ticket {ticket_id} is closed; it can no longer change", field="status")
    apply_update(ticket, update)
    local = local_settings(session=session, settings=settings, area=ticket.area_code)
    stamp_warranty(ticket, local, now)
    named = sorted(update.model_dump(exclude_unset=True, exclude_none=True))
    add_event(session, ticket, TicketEventKind.UPDATED, now=now, by=by, detail={"fields": named})
    return commit_ticket(session, ticket)


def answer(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.OPEN], "answer")
    ticket.status, ticket.answered_at = TicketStatus.ANSWERED, now
    add_event(session, ticket, TicketEventKind.ANSWERED, now=now, by=by)
    return commit_ticket(session, ticket)


def assign(
    *, session: Session, ticket_id: int, request: AssignRequest, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.ANSWERED, TicketStatus.ASSIGNED], "assign")
    require_dispatchable(ticket)
    if session.exec(select(Vehicle).where(Vehicle.code == request.vehicle_code)).first() is None:
        raise RuleBroken(
            f"vehicle {request.vehicle_code!r} is not in the fleet", field="vehicle_code"
        )
    own = vehicle_area(session=session, vehicle_code=request.vehicle_code)
    if own != ticket.area_code:
        # Technicians never cross areas: the ticket's own area's technician goes.
        raise RuleBroken(
            f"vehicle {request.vehicle_code!r} works in area {own}, the ticket is of "
            f"{ticket.area_code}",
            field="vehicle_code",
            rule="same_area",
        )
    assign_to(session, ticket, request.vehicle_code, now=now, by=by)
    return commit_ticket(session, ticket)


def assign_to(
    session: Session,
    ticket: Ticket,
    vehicle_code: str,
    *,
    now: dt.datetime,
    by: str,
    detail: dict[str, object] | None = None,
) -> None:
    """The ticket now belongs to `vehicle_code`'s technician; the caller commits."""
    ticket.status, ticket.vehicle_code, ticket.assigned_at = (
        TicketStatus.ASSIGNED,
        vehicle_code,
        now,
    )
    # A new technician means a new call to the customer: the contact clock starts again.
    ticket.contacted_at = ticket.estimated_arrival = None
    session.add(ticket)
    detail = {"vehicle_code": vehicle_code, **(detail or {})}
    add_event(session, ticket, TicketEventKind.ASSIGNED, now=now, by=by, detail=detail)


def contact(
    *, session: Session, ticket_id: int, request: ContactRequest, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.ASSIGNED], "contacting the customer")
    ticket.contacted_at, ticket.estimated_arrival = now, request.estimated_arrival
    detail: dict[str, object] = {"estimated_arrival": request.estimated_arrival.isoformat()}
    add_event(session, ticket, TicketEventKind.CONTACTED, now=now, by=by, detail=detail)
    return commit_ticket(session, ticket)


def wait_for_parts(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.ANSWERED, TicketStatus.ASSIGNED], "waiting for parts")
    ticket.status = TicketStatus.WAITING_PARTS
    add_event(session, ticket, TicketEventKind.PARTS_WAITING, now=now, by=by)
    return commit_ticket(session, ticket)


def parts_arrived(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.WAITING_PARTS], "marking parts arrived")
    # Schedulable again: it goes back to be assigned, to the same technician or another.
    ticket.status = TicketStatus.ANSWERED
    add_event(session, ticket, TicketEventKind.PARTS_ARRIVED, now=now, by=by)
    return commit_ticket(session, ticket)


def visit(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.ASSIGNED], "recording a visit")
    ticket.visits += 1
    add_event(
        session, ticket, TicketEventKind.VISITED, now=now, by=by, detail={"visit": ticket.visits}
    )
    return commit_ticket(session, ticket)


def close(
    *, session: Session, ticket_id: int, request: CloseRequest, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.ASSIGNED], "closing")
    undone = [name for name in ("tested", "site_cleaned") if not getattr(request, name)]
    if undone:
        raise RuleBroken(
            f"closing needs the checks done: {', '.join(undone)}", field=undone[0], rule="checks"
        )
    report = _service_report(session, ticket, request.service_report_id)
    _goods_back(session, ticket)
    ticket.tested, ticket.site_cleaned = True, True
    ticket.service_report_id = report.id
    ticket.satisfaction = request.satisfaction or _score(report)
    # A visit is a technician's arrival at one of the ticket's visits, when they were planned;
    # visits recorded by hand (POST /visit) count when there are more of them.
    ticket.visits = max(ticket.visits, _arrivals(session, visit_order_ids(session, ticket)))
    ticket.status, ticket.closed_at = TicketStatus.CLOSED, now
    add_event(session, ticket, TicketEventKind.CLOSED, now=now, by=by, detail={"report": report.id})
    return commit_ticket(session, ticket)


def _service_report(session: Session, ticket: Ticket, report_id: int) -> LedgerEntry:
    report = session.get(LedgerEntry, report_id)
    if report is None or report.kind != Kind.SERVICE_REPORT:
        raise RuleBroken(
            f"ledger entry {report_id} is not a signed service report",
            field="service_report_id",
            rule="service_report",
        )
    visits = visit_order_ids(session, ticket)
    if visits and report.order_id not in visits:
        raise RuleBroken(
            f"service report {report_id} was signed at another visit than this ticket's",
            field="service_report_id",
            rule="own_visit",
        )
    return report


def _goods_back(session: Session, ticket: Ticket) -> None:
    """A ticket whose goods were taken back for repair closes once they are back."""
    query = select(TakeBack.receipt_no).where(TakeBack.ticket_id == ticket.id)
    if held := session.exec(query.where(TakeBack.status != GoodsStatus.OUT)).first():
        message = f"ticket {ticket.id}'s goods are held (receipt {held}) until their return"
        raise Conflict(message, field="status", rule="goods_held")


def _score(report: LedgerEntry) -> int | None:
    points = report.payload.get("satisfaction")
    return points if isinstance(points, int) and 1 <= points <= 5 else None


def visit_order_ids(session: Session, ticket: Ticket) -> set[int]:
    """Every order scheduled for the ticket's visits, the current one and earlier ones."""
    query = select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == TicketEventKind.SCHEDULED
    )
    ids = {event.detail.get("order_id") for event in session.exec(query)}
    ids.add(ticket.visit_order_id)
    return {order_id for order_id in ids if isinstance(order_id, int)}


def _arrivals(session: Session, order_ids: set[int]) -> int:
    if not order_ids:
        return 0
    # A correction repeats its arrival; only original records are visits.
    query = select(func.count()).where(
        LedgerEntry.kind == Kind.ARRIVED,
        col(LedgerEntry.order_id).in_(order_ids),
        col(LedgerEntry.corrects).is_(None),
    )
    return int(session.exec(query).one())


def follow_up(*, session: Session, ticket_id: int, now: dt.datetime, by: str) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, [TicketStatus.CLOSED], "the follow-up call")
    if ticket.follow_up_done_at is not None:
        raise Conflict(f"ticket {ticket_id}'s follow-up call is already done", field="status")
    ticket.follow_up_done_at = now
    add_event(session, ticket, TicketEventKind.FOLLOW_UP_DONE, now=now, by=by)
    return commit_ticket(session, ticket)


def escalate_overdue(
    *, session: Session, now: dt.datetime, areas: Sequence[str], by: str = ""
) -> EscalationResult:
    """Complaints of `areas` past their solution's due date go to a manager, each once."""
    query = select(Ticket).where(
        col(Ticket.area_code).in_(areas),
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
        add_event(session, ticket, TicketEventKind.ESCALATED, now=now, by=by)
        assert ticket.id is not None
        escalated.append(ticket.id)
    session.commit()
    return EscalationResult(escalated=escalated)

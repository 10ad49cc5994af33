"""A ticket's repair visit: an order the planner routes to a technician holding the skill, at
the time agreed with the customer; and the ticket's assignment once that plan is published.

The visit is written here with the order models directly, not through the order system's
booking (api.orders.service): the booking lead time and the item and cash rules are for
deliveries, not for a technician sent back to fix something.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.areas.scope import local_settings
from api.core.config import TICKET_VISIT_MINUTES, TICKET_VISIT_SKILLS, ServiceSettings
from api.core.errors import Conflict, RuleBroken
from api.core.hashing import digest
from api.fleet.models import Skill
from api.orders.models import Order, OrderEvent, OrderStatus, Slot
from api.orders.service import check_horizon
from api.plans.models import PlanStop
from api.tickets.models import (
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketPublic,
    TicketServiceType,
    TicketStatus,
    TicketUrgency,
)
from api.tickets.service import (
    add_event,
    assign_to,
    commit_ticket,
    expect_status,
    get_ticket,
    public,
    require_dispatchable,
)
from optimizer.data import VisitKind

SCHEDULABLE = (TicketStatus.ANSWERED, TicketStatus.ASSIGNED)
# A visit not on a published plan follows the ticket when its time or place changes.
MOVABLE = (OrderStatus.BOOKED, OrderStatus.FAILED)
# A customer waiting for a fix comes before an ordinary install competing for a technician.
PRIORITY = {TicketUrgency.LOW: 1, TicketUrgency.NORMAL: 2, TicketUrgency.HIGH: 3}
# What the visit order copies from the ticket; a change to any of them moves the visit.
VISIT_FIELDS = (
    "customer",
    "phone",
    "address",
    "lat",
    "lon",
    "service_type",
    "date",
    "slot",
    "window_from",
    "window_to",
    "skills",
    "service_minutes",
    "priority",
)
MAX_EXTERNAL_ID = 64


def schedule(
    *, session: Session, settings: ServiceSettings, ticket_id: int, now: dt.datetime, by: str
) -> TicketPublic:
    """The ticket with its visit order: made once, and the same one on every later call
    while the visit has not happened, moved when the ticket's time or place changed."""
    try:
        return _schedule(session, settings, ticket_id, now=now, by=by)
    except IntegrityError:
        # Two calls raced to make the visit; the loser answers with the winner's.
        session.rollback()
        ticket = get_ticket(session=session, ticket_id=ticket_id)
        if ticket.visit_order_id is None:
            raise
        return public(ticket)


def _schedule(
    session: Session, settings: ServiceSettings, ticket_id: int, *, now: dt.datetime, by: str
) -> TicketPublic:
    ticket = get_ticket(session=session, ticket_id=ticket_id, lock=True)
    expect_status(ticket, SCHEDULABLE, "scheduling a visit")
    require_dispatchable(ticket)
    # The area's slot hours, horizon and wall clock: its own technicians make the visit.
    settings = local_settings(session=session, settings=settings, area=ticket.area_code)
    wanted = visit_fields(session=session, settings=settings, ticket=ticket)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    if wanted["date"] < today:
        raise RuleBroken(
            f"on_site_at falls on {wanted['date']}, before today ({today}); agree a new time",
            field="on_site_at",
            rule="future",
        )
    check_horizon(settings=settings, today=today, date=wanted["date"], field="on_site_at")
    current = _current_visit(session, ticket)
    if current is None or _done(current, today):
        _create(session, ticket, wanted, now=now, by=by)
    elif any(getattr(current, name) != wanted[name] for name in VISIT_FIELDS):
        _move(session, ticket, current, wanted, now=now, by=by)
    else:
        return public(ticket)  # a retry: the visit is already as the ticket says
    return commit_ticket(session, ticket)


def visit_fields(*, session: Session, settings: ServiceSettings, ticket: Ticket) -> dict[str, Any]:
    """The visit order's fields from a dispatchable ticket."""
    assert ticket.on_site_at is not None and ticket.service_type is not None
    local = ticket.on_site_at.astimezone(ZoneInfo(settings.timezone))
    service = ticket.service_type
    minutes = settings.ticket_visit_minutes.get(service.value, TICKET_VISIT_MINUTES[service])
    return {
        "customer": ticket.customer_name,
        "phone": ticket.customer_phone,
        **_place(session, ticket),
        "service_type": VisitKind.INSTALL
        if service == TicketServiceType.INSTALL
        else VisitKind.REPAIR,
        "date": local.date(),
        "slot": Slot.MORNING if local.time() < settings.morning_end else Slot.AFTERNOON,
        **_window(local, settings.ticket_visit_tolerance_minutes),
        "skills": _skills(session, settings, service),
        "service_minutes": minutes,
        "priority": PRIORITY[ticket.urgency or TicketUrgency.NORMAL],
    }


def _place(session: Session, ticket: Ticket) -> dict[str, Any]:
    """Where the customer is: their earlier order's address, else the ticket's own."""
    if not ticket.order_external_id:
        return {"address": ticket.address, "lat": ticket.lat, "lon": ticket.lon}
    query = select(Order).where(Order.external_id == ticket.order_external_id)
    order = session.exec(query).first()
    if order is None:
        raise RuleBroken(
            f"order_external_id {ticket.order_external_id!r} names no order; "
            "send the order system's id of the customer's order, or the address and lat/lon",
            field="order_external_id",
            rule="known_order",
        )
    return {"address": order.address, "lat": order.lat, "lon": order.lon}


def _window(local: dt.datetime, tolerance_minutes: int) -> dict[str, dt.time]:
    """The agreed time ± the tolerance, kept within its day."""
    tolerance = dt.timedelta(minutes=tolerance_minutes)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(local - tolerance, midnight)
    end = min(local + tolerance, midnight + dt.timedelta(hours=23, minutes=59))
    return {"window_from": start.time(), "window_to": end.time()}


def _skills(session: Session, settings: ServiceSettings, service: TicketServiceType) -> list[str]:
    skill = settings.ticket_visit_skills.get(service.value, TICKET_VISIT_SKILLS[service])
    if not skill:
        return []
    if session.exec(select(Skill.id).where(Skill.name == skill)).first() is None:
        raise RuleBroken(
            f"service type {service.value} needs skill {skill!r} (ticket_visit_skills), "
            "which no technician can hold yet; create it under /skills first",
            field="service_type",
            rule="known_skill",
        )
    return [skill]


def _current_visit(session: Session, ticket: Ticket) -> Order | None:
    if ticket.visit_order_id is None:
        return None
    query = select(Order).where(Order.id == ticket.visit_order_id).with_for_update()
    return session.exec(query).first()


def _done(order: Order, today: dt.date) -> bool:
    """Over: delivered, cancelled, or its published day gone by (a later visit is another)."""
    if order.status in (OrderStatus.DELIVERED, OrderStatus.CANCELLED):
        return True
    return order.status == OrderStatus.PLANNED and order.date < today


def _create(
    session: Session, ticket: Ticket, wanted: dict[str, Any], *, now: dt.datetime, by: str
) -> None:
    number = 1 + _visits_scheduled(session, ticket)
    external_id = _external_id(ticket, number)
    if session.exec(select(Order.id).where(Order.external_id == external_id)).first():
        raise Conflict(
            f"order {external_id!r} exists but is not this ticket's visit", field="external_id"
        )
    payload = {"ticket": ticket.external_id, "visit": number}
    order = Order(
        external_id=external_id,
        payload_hash=digest(payload),
        notes=f"{ticket.external_id}: {ticket.equipment or ''}"[:500],
        min_crew=1,
        area_code=ticket.area_code,
        created_at=now,
        updated_at=now,
        **wanted,
    )
    session.add(order)
    session.flush()  # assigns order.id for the events
    assert order.id is not None
    created = {**_when(order), "ticket": ticket.external_id}
    session.add(OrderEvent(order_id=order.id, kind="created", at=now, by=by, detail=created))
    ticket.visit_order_id = order.id
    detail: dict[str, object] = {"order_id": order.id, "external_id": external_id}
    detail |= {"visit": number, **_when(order)}
    add_event(session, ticket, TicketEventKind.SCHEDULED, now=now, by=by, detail=detail)


def _move(
    session: Session,
    ticket: Ticket,
    order: Order,
    wanted: dict[str, Any],
    *,
    now: dt.datetime,
    by: str,
) -> None:
    if order.status not in MOVABLE:
        raise Conflict(
            f"visit {order.external_id} is on the published plan of {order.date}; take it off "
            "that plan before changing the ticket's time or place",
            field="on_site_at",
        )
    before = _when(order)
    changed = sorted(name for name in VISIT_FIELDS if getattr(order, name) != wanted[name])
    for name in changed:
        setattr(order, name, wanted[name])
    order.updated_at = now
    session.add(order)
    assert order.id is not None
    moved = {"from": before, "to": _when(order), "fields": changed, "ticket": ticket.external_id}
    session.add(OrderEvent(order_id=order.id, kind="rescheduled", at=now, by=by, detail=moved))
    detail: dict[str, object] = {"order_id": order.id, "external_id": order.external_id}
    detail["moved"] = changed
    add_event(session, ticket, TicketEventKind.SCHEDULED, now=now, by=by, detail=detail)


def _when(order: Order) -> dict[str, str]:
    window = f"{order.window_from:%H:%M}-{order.window_to:%H:%M}" if order.window_from else ""
    return {"date": order.date.isoformat(), "slot": order.slot.value, "window": window}


def _visits_scheduled(session: Session, ticket: Ticket) -> int:
    query = select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == TicketEventKind.SCHEDULED
    )
    return sum("visit" in event.detail for event in session.exec(query))


def _external_id(ticket: Ticket, number: int) -> str:
    name = f"ticket-{ticket.external_id}" + (f"-{number}" if number > 1 else "")
    if len(name) <= MAX_EXTERNAL_ID:
        return name
    # A long ticket id would not fit an order's id; its digest keeps the name unique.
    return f"ticket-{digest(name)[:32]}"


def release_dropped_visits(
    session: Session, *, plan_id: int, superseded: Sequence[int], now: dt.datetime, by: str
) -> list[int]:
    """Tickets assigned through a superseded plan whose visit the published one left off.

    Their technician is no longer coming, so the ticket goes back to be scheduled and
    assigned again, and no contact clock runs for a call nobody will make. A ticket given
    to someone else by hand since keeps that technician. Runs inside publish's transaction.
    """
    if not superseded:
        return []
    kept = select(PlanStop.order_id).where(PlanStop.plan_id == plan_id)
    query = (
        select(Ticket, PlanStop.vehicle_code)
        .join(PlanStop, col(PlanStop.order_id) == col(Ticket.visit_order_id))
        .where(
            col(PlanStop.plan_id).in_(superseded),
            Ticket.status == TicketStatus.ASSIGNED,
            col(Ticket.visit_order_id).not_in(kept),
        )
        .order_by(col(Ticket.id))
        .with_for_update(of=Ticket)  # type: ignore[arg-type]
    )
    released = []
    for ticket, vehicle_code in session.exec(query).all():
        if ticket.vehicle_code != vehicle_code:
            continue
        ticket.status, ticket.vehicle_code, ticket.assigned_at = TicketStatus.ANSWERED, None, None
        ticket.contacted_at = ticket.estimated_arrival = None
        session.add(ticket)
        detail: dict[str, object] = {"plan_id": plan_id, "vehicle_code": vehicle_code}
        detail["order_id"] = ticket.visit_order_id
        add_event(session, ticket, TicketEventKind.UNASSIGNED, now=now, by=by, detail=detail)
        assert ticket.id is not None
        released.append(ticket.id)
    return released


def assign_planned_visits(
    session: Session, *, plan_id: int, now: dt.datetime, by: str
) -> list[int]:
    """Tickets whose visit is on the plan being published go to the technician routing it.

    Runs inside publish's transaction (the caller commits). Another technician restarts the
    contact clock; the same one again, on a plan published anew, leaves it running.
    """
    query = (
        select(Ticket, PlanStop.vehicle_code)
        .join(PlanStop, col(PlanStop.order_id) == col(Ticket.visit_order_id))
        .where(PlanStop.plan_id == plan_id, col(Ticket.status).in_(SCHEDULABLE))
        .order_by(col(Ticket.id))
        .with_for_update(of=Ticket)  # type: ignore[arg-type]
    )
    assigned = []
    for ticket, vehicle_code in session.exec(query).all():
        if ticket.status == TicketStatus.ASSIGNED and ticket.vehicle_code == vehicle_code:
            continue
        detail: dict[str, object] = {"plan_id": plan_id}
        assign_to(session, ticket, vehicle_code, now=now, by=by, detail=detail)
        assert ticket.id is not None
        assigned.append(ticket.id)
    return assigned

"""After-sales tickets over HTTP: thin wrappers over the service, with the service clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from api.areas.scope import AreaQuery, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.tickets import clocks, service, visits
from api.tickets.models import (
    AssignRequest,
    CloseRequest,
    ContactRequest,
    EscalationResult,
    TicketCreate,
    TicketPublic,
    TicketReport,
    TicketStatus,
    TicketUpdate,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])
Opener = Annotated[Principal, Depends(require(Role.ORDER_SYSTEM, Role.DISPATCHER))]
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
# The warehouse marks parts as arrived; the dispatcher may do it for them.
PartsKeeper = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE))]


@router.post("", response_model=TicketPublic, status_code=status.HTTP_201_CREATED)
def create_ticket(
    ticket: TicketCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Opener,
) -> TicketPublic:
    stored, created = service.create_ticket(
        session=session, settings=settings, ticket=ticket, now=clock.now(), principal=who
    )
    if not created:
        response.status_code = status.HTTP_200_OK  # a retry: the ticket already exists
    return stored


@router.get("/report", response_model=TicketReport)
def report(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Dispatcher,
    area: AreaQuery = None,
) -> TicketReport:
    """The areas in the key's scope (or the one named), summed and area by area."""
    areas = resolve_areas(session=session, principal=who, area=area)
    return clocks.report(session=session, settings=settings, now=clock.now(), areas=areas)


@router.post("/escalations", response_model=EscalationResult)
def escalations(
    session: SessionDep, clock: ClockDep, who: Dispatcher, area: AreaQuery = None
) -> EscalationResult:
    """Only the complaints of the areas in the key's scope: a chain-wide key escalates all."""
    areas = resolve_areas(session=session, principal=who, area=area)
    return service.escalate_overdue(session=session, now=clock.now(), areas=areas, by=who.name)


@router.get("", response_model=list[TicketPublic])
def list_tickets(
    session: SessionDep,
    who: Opener,
    area: AreaQuery = None,
    ticket_status: Annotated[TicketStatus | None, Query(alias="status")] = None,
) -> list[TicketPublic]:
    areas = resolve_areas(session=session, principal=who, area=area)
    return service.list_tickets(session=session, areas=areas, status=ticket_status)


@router.get("/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: RowId, session: SessionDep, who: Opener) -> TicketPublic:
    ticket = service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.public(ticket)


@router.patch("/{ticket_id}", response_model=TicketPublic)
def update_ticket(
    ticket_id: RowId,
    update: TicketUpdate,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Opener,
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.update_ticket(
        session=session,
        settings=settings,
        ticket_id=ticket_id,
        update=update,
        now=clock.now(),
        by=who.name,
    )


@router.post("/{ticket_id}/answer", response_model=TicketPublic)
def answer(ticket_id: RowId, session: SessionDep, clock: ClockDep, who: Dispatcher) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.answer(session=session, ticket_id=ticket_id, now=clock.now(), by=who.name)


@router.post("/{ticket_id}/assign", response_model=TicketPublic)
def assign(
    ticket_id: RowId, request: AssignRequest, session: SessionDep, clock: ClockDep, who: Dispatcher
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.assign(
        session=session, ticket_id=ticket_id, request=request, now=clock.now(), by=who.name
    )


@router.post("/{ticket_id}/schedule", response_model=TicketPublic)
def schedule(
    ticket_id: RowId, session: SessionDep, settings: SettingsDep, clock: ClockDep, who: Dispatcher
) -> TicketPublic:
    """Book the ticket's visit for the planner (visit_order_id); the same visit on a retry.
    Publishing the plan that routes it assigns the ticket to that technician; publishing a
    newer plan without it hands the ticket back."""
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return visits.schedule(
        session=session, settings=settings, ticket_id=ticket_id, now=clock.now(), by=who.name
    )


@router.post("/{ticket_id}/contact", response_model=TicketPublic)
def contact(
    ticket_id: RowId, request: ContactRequest, session: SessionDep, clock: ClockDep, who: Dispatcher
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.contact(
        session=session, ticket_id=ticket_id, request=request, now=clock.now(), by=who.name
    )


@router.post("/{ticket_id}/wait-for-parts", response_model=TicketPublic)
def wait_for_parts(
    ticket_id: RowId, session: SessionDep, clock: ClockDep, who: Dispatcher
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.wait_for_parts(
        session=session, ticket_id=ticket_id, now=clock.now(), by=who.name
    )


@router.post("/{ticket_id}/parts-arrived", response_model=TicketPublic)
def parts_arrived(
    ticket_id: RowId, session: SessionDep, clock: ClockDep, who: PartsKeeper
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.parts_arrived(session=session, ticket_id=ticket_id, now=clock.now(), by=who.name)


@router.post("/{ticket_id}/visit", response_model=TicketPublic)
def visit(ticket_id: RowId, session: SessionDep, clock: ClockDep, who: Dispatcher) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.visit(session=session, ticket_id=ticket_id, now=clock.now(), by=who.name)


@router.post("/{ticket_id}/close", response_model=TicketPublic)
def close(
    ticket_id: RowId, request: CloseRequest, session: SessionDep, clock: ClockDep, who: Dispatcher
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.close(
        session=session, ticket_id=ticket_id, request=request, now=clock.now(), by=who.name
    )


@router.post("/{ticket_id}/follow-up", response_model=TicketPublic)
def follow_up(
    ticket_id: RowId, session: SessionDep, clock: ClockDep, who: Dispatcher
) -> TicketPublic:
    service.check_ticket_scope(session=session, ticket_id=ticket_id, principal=who)
    return service.follow_up(session=session, ticket_id=ticket_id, now=clock.now(), by=who.name)

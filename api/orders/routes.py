"""Order endpoints: the order system books, dispatchers look after, finance reads.

The warehouse reads the fleet, plans and exports, not the order book: customers' names,
phones, addresses and cash are not theirs to list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from api.areas.scope import AreaQuery, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep, require
from api.orders import service
from api.orders.models import (
    CancelRequest,
    OrderCreate,
    OrderEventPublic,
    OrderPublic,
    OrderStatus,
    RescheduleRequest,
)

router = APIRouter(prefix="/orders", tags=["orders"])
Booker = Annotated[Principal, Depends(require(Role.ORDER_SYSTEM, Role.DISPATCHER))]
Reader = Annotated[
    Principal,
    Depends(require(Role.DISPATCHER, Role.FINANCE, Role.ORDER_SYSTEM)),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    responses={200: {"description": "A retry of an order already stored: the stored order"}},
)
def create_order(
    body: OrderCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Booker,
) -> OrderPublic:
    order, created = service.create_order(
        session=session, settings=settings, now=clock.now(), order=body, principal=principal
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return order


@router.get("", response_model=list[OrderPublic])
def list_orders(
    session: SessionDep,
    principal: Reader,
    area: AreaQuery = None,
    date: Annotated[dt.date | None, Query()] = None,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
) -> object:
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.list_orders(session=session, areas=areas, date=date, status=order_status)


@router.get("/overdue-installations", response_model=list[OrderPublic])
def overdue_installations(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Reader,
    area: AreaQuery = None,
    date: Annotated[dt.date | None, Query(description="default: each area's today")] = None,
) -> object:
    """Installations past their window: the planner never takes them, a dispatcher must
    agree a new date with the customer (POST /orders/{external_id}/reschedule)."""
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.list_overdue_installations(
        session=session, settings=settings, areas=areas, now=clock.now(), date=date
    )


@router.get("/{external_id}", response_model=OrderPublic)
def get_order(external_id: str, session: SessionDep, principal: Reader) -> object:
    return service.get_order(session=session, external_id=external_id, principal=principal)


@router.get("/{external_id}/history", response_model=list[OrderEventPublic])
def order_history(external_id: str, session: SessionDep, principal: Reader) -> object:
    return service.order_history(session=session, external_id=external_id, principal=principal)


@router.post("/{external_id}/cancel", response_model=OrderPublic)
def cancel_order(
    external_id: str, body: CancelRequest, session: SessionDep, principal: Booker
) -> object:
    return service.cancel_order(
        session=session, external_id=external_id, reason=body.reason, principal=principal
    )


@router.post("/{external_id}/reschedule", response_model=OrderPublic)
def reschedule_order(
    external_id: str,
    body: RescheduleRequest,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Booker,
) -> object:
    return service.reschedule_order(
        session=session,
        settings=settings,
        now=clock.now(),
        external_id=external_id,
        request=body,
        principal=principal,
    )

"""A crew's own published route, and nothing of any other crew."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from api.areas.models import DEFAULT_AREA
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.errors import NotFound
from api.drivers.models import DriverDepositPublic, DriverRoutePublic, DriverStopPublic
from api.fleet.models import Vehicle
from api.fleet.service import crews_on
from api.orders.models import Order, OrderItem, OrderItemPublic
from api.orders.window import visit_window
from api.plans.deposits import deposit_public, plan_deposits
from api.plans.models import Plan, PlanDeposit, PlanRoute, PlanStatus, PlanStop
from optimizer.explain import hhmm


def published_plan(*, session: Session, date: dt.date, area: str) -> Plan:
    """The area's published plan of the date: each area publishes its own."""
    plan = session.exec(
        select(Plan).where(
            Plan.area_code == area, Plan.date == date, Plan.status == PlanStatus.PUBLISHED
        )
    ).first()
    if plan is None:
        where = "" if area == DEFAULT_AREA else f" in area {area}"
        raise NotFound(f"no plan is published for {date}{where} yet")
    return plan


def crew_route(
    *, session: Session, settings: ServiceSettings, date: dt.date, vehicle_code: str, area: str
) -> DriverRoutePublic:
    """The crew's route on its area's published plan; `settings` are the area's own
    (local_settings), which set its windows and cash cap."""
    plan = published_plan(session=session, date=date, area=area)
    vehicle = get_or_404(session, Vehicle, "vehicle", code=vehicle_code)
    route = session.exec(
        select(PlanRoute).where(
            PlanRoute.plan_id == plan.id, PlanRoute.vehicle_code == vehicle_code
        )
    ).first()
    if route is None:
        raise NotFound(f"crew {vehicle_code} has no stops on {date}")
    rows = session.exec(
        select(PlanStop, Order)
        .join(Order, col(PlanStop.order_id) == col(Order.id))
        .where(PlanStop.plan_id == plan.id, PlanStop.vehicle_code == vehicle_code)
        .order_by(col(PlanStop.position))
    ).all()
    items: dict[int, list[OrderItemPublic]] = {}
    order_ids = [order.id for _, order in rows]
    for item in session.exec(select(OrderItem).where(col(OrderItem.order_id).in_(order_ids))):
        items.setdefault(item.order_id, []).append(OrderItemPublic.model_validate(item))
    return DriverRoutePublic(
        plan_id=plan.id or 0,
        plan_version=plan.version,
        date=date,
        vehicle_code=vehicle_code,
        crew=crews_on(session=session, date=date).get(vehicle_code, []),
        departure=hhmm(route.departure),
        return_time=hhmm(route.return_time),
        distance_km=round(route.distance_m / 1000, 1),
        cash_cap_cny=vehicle.cash_cap_cny or settings.cash_cap_cny,
        stops=[_stop(stop, order, items, settings) for stop, order in rows],
        deposits=[
            _deposit(row)
            for row in plan_deposits(session=session, plan_id=plan.id or 0).get(vehicle_code, [])
        ],
    )


def _deposit(row: PlanDeposit) -> DriverDepositPublic:
    return DriverDepositPublic(**deposit_public(row).model_dump(), lat=row.lat, lon=row.lon)


def _stop(
    stop: PlanStop,
    order: Order,
    items: dict[int, list[OrderItemPublic]],
    settings: ServiceSettings,
) -> DriverStopPublic:
    start, end = visit_window(order, settings)
    return DriverStopPublic(
        position=stop.position,
        external_id=order.external_id,
        service_type=order.service_type,
        customer=order.customer,
        phone=order.phone,
        address=order.address,
        lat=order.lat,
        lon=order.lon,
        slot=order.slot,
        window=f"{hhmm(start)}–{hhmm(end)}",
        arrival=hhmm(stop.arrival),
        start=hhmm(stop.start),
        items=items.get(order.id or 0, []),
        cash_to_collect_cny=order.cash_cny,
        cash_on_board_cny=stop.cash_on_board_fen / 100,
        status=order.status.value,
    )

"""The one place where stored rows become an optimizer Model and a Result becomes rows.

Visit ids are the order system's external ids and vehicle ids are vehicle codes, so a
Result can be read back without any lookup table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from api.banks.service import area_banks
from api.core.roads import matrix_provider
from api.fleet.models import CrewMember, Depot, Skill, Vehicle
from api.orders.bounds import stored_order_problem
from api.orders.models import Order
from api.orders.window import visit_window
from api.plans.deposits import add_banks, add_stored_banks, deposit_rows, stored_deposits
from api.plans.models import PlanDeposit, PlanRoute, PlanStop, PlanUnassigned
from api.plans.plannable import (
    area_or_only,
    area_vehicles,
    later_technician_orders,
    plannable_orders,
    visit_days,
    working_vehicles,
)
from optimizer.data import Bank, ProblemData, VehicleKind
from optimizer.model import Model
from optimizer.result import Kpis, ReasonCode, Result, Route, Status, Stop, Unassigned
from optimizer.settings import DispatchSettings, seconds_of_day


@dataclass(frozen=True)
class PlanningInput:
    area: str
    date: dt.date
    data: ProblemData
    orders: Mapping[str, Order]  # external id -> order
    # Orders of the date the model refused, external id -> (order, why): left out, named.
    refused: Mapping[str, tuple[Order, str]] = field(default_factory=dict)

    @property
    def every_order(self) -> dict[str, Order]:
        return {**self.orders, **{key: order for key, (order, _) in self.refused.items()}}

    def refusals(self) -> dict[str, tuple[str, str]]:
        """External id -> (reason code, reason) of the refused orders, as a Draft lists them."""
        code = ReasonCode.INVALID_ORDER.value
        return {key: (code, why) for key, (_, why) in self.refused.items()}

    def with_refused(self, result: Result) -> Result:
        """The solver's result with the refused orders listed as unassigned and counted."""
        if not self.refused:
            return result
        left = tuple(
            Unassigned(key, ReasonCode.INVALID_ORDER, why) for key, (_, why) in self.refused.items()
        )
        kpis = replace(
            result.kpis,
            visits_total=result.kpis.visits_total + len(left),
            visits_unassigned=result.kpis.visits_unassigned + len(left),
        )
        return replace(result, unassigned=(*result.unassigned, *left), kpis=kpis)


def planning_input(
    *,
    session: Session,
    date: dt.date,
    settings: DispatchSettings,
    pins: Mapping[str, str] | None = None,
    exclude: Collection[str] = (),
    area: str | None = None,
) -> PlanningInput:
    """The area's fleet and orders of `date` as ProblemData; `pins` maps external id ->
    vehicle code. `settings` are the area's (local_settings): its slots, cash cap, install
    types. `area` may be left out while the chain has only one.

    `exclude` names orders to leave out (a dispatcher took them off the plan by hand).
    When some visit may be made on a later day too, the technicians of those days join as
    vehicles of their own (`T01@2026-12-04`), with the visits already booked on them, so the
    planner chooses the day; only the plan's own day is stored (see optimizer.horizon).
    """
    area = area_or_only(session, area)
    orders = [
        order
        for order in plannable_orders(session=session, date=date, area=area)
        if order.external_id not in exclude
    ]
    days = {order.external_id: visit_days(order, date, settings) for order in orders}
    horizon = max((last for _, last in days.values()), default=0)
    later = later_technician_orders(session=session, date=date, days=horizon, area=area)
    model = _fleet_model(session=session, area=area, date=date, horizon=horizon, settings=settings)
    pins = pins or {}
    refused = {}
    for order in orders:
        pin, when = pins.get(order.external_id), days[order.external_id]
        why = _try_order(model, order, settings, pin, when)
        if why is not None:
            refused[order.external_id] = (order, why)
    for day, order in later:
        if order.external_id not in days:
            # Refused here too, it is named in the plan of its own day.
            _try_order(model, order, settings, None, (day, day))
    return PlanningInput(
        area=area,
        date=date,
        data=model.data(matrix_provider(settings)),
        orders={order.external_id: order for order in orders if order.external_id not in refused},
        refused=refused,
    )


def later_vehicle_id(code: str, date: dt.date) -> str:
    return f"{code}@{date.isoformat()}"


def _fleet_model(
    *, session: Session, area: str, date: dt.date, horizon: int, settings: DispatchSettings
) -> Model:
    """The day's skills, the area's depots and working vehicles, and the technicians of
    later days."""
    model = Model(deposit_min_crew=settings.deposit_min_crew)
    model.add_skills(session.exec(select(Skill.name)))
    depots = _add_depots(model, session, area)
    add_banks(model, area_banks(session=session, settings=settings, area=area))
    for day in range(horizon + 1):
        when = date + dt.timedelta(days=day)
        sizes = _crew_sizes(session=session, date=when)
        for vehicle in working_vehicles(session=session, date=when, area=area):
            # Later days lend only their technicians, for installations whose window runs on.
            if day and vehicle.kind != VehicleKind.TECHNICIAN:
                continue
            code = later_vehicle_id(vehicle.code, when) if day else None
            _add_vehicle(model, vehicle, depots, sizes, settings, code=code, day=day)
    return model


def _add_depots(model: Model, session: Session, area: str) -> dict[str, int]:
    depot_index = {}
    query = select(Depot).where(Depot.area_code == area).order_by(col(Depot.code))
    for depot in session.exec(query):
        depot_index[depot.code] = model.add_depot(
            depot.code,
            lat=depot.lat,
            lon=depot.lon,
            opens=seconds_of_day(depot.opens),
            closes=seconds_of_day(depot.closes),
            name=depot.name,
        )
    return depot_index


def _add_vehicle(
    model: Model,
    vehicle: Vehicle,
    depots: Mapping[str, int],
    crew_sizes: Mapping[str, int],
    settings: DispatchSettings,
    *,
    code: str | None = None,
    day: int = 0,
) -> None:
    model.add_vehicle(
        code or vehicle.code,
        depot=depots[vehicle.depot_code],
        shift=(seconds_of_day(vehicle.shift_start), seconds_of_day(vehicle.shift_end)),
        weight_kg=vehicle.weight_kg,
        volume_m3=vehicle.volume_m3,
        cash_cap_cny=vehicle.cash_cap_cny or settings.cash_cap_cny,
        skills=vehicle.skills,
        kind=vehicle.kind,
        crew_size=crew_sizes.get(vehicle.code, vehicle.crew_size),
        name=vehicle.name,
        day=day,
    )


def _crew_sizes(*, session: Session, date: dt.date) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for code in session.exec(select(CrewMember.vehicle_code).where(CrewMember.date == date)):
        sizes[code] = sizes.get(code, 0) + 1
    return sizes


def _try_order(
    model: Model,
    order: Order,
    settings: DispatchSettings,
    pin: str | None,
    days: tuple[int, int] = (0, 0),
) -> str | None:
    """Add the order's visit; why it cannot be planned when the model refuses it.

    One bad row (written by an old release, or by hand) must not stop a whole day's
    planning, so it is left out, named with the field at fault.
    """
    problem = stored_order_problem(order, settings)
    if problem is None:
        try:
            _add_order(model, order, settings, pin, days)
        except (ValueError, OverflowError) as error:
            problem = str(error)
    if problem is None:
        return None
    return f"order {order.external_id} cannot be planned: {problem}; correct the order"


def _add_order(
    model: Model,
    order: Order,
    settings: DispatchSettings,
    pin: str | None,
    days: tuple[int, int] = (0, 0),
) -> None:
    model.add_visit(
        order.external_id,
        lat=order.lat,
        lon=order.lon,
        window=visit_window(order, settings),
        service_s=order.service_minutes * 60,
        kind=order.service_type,
        weight_kg=order.weight_kg,
        volume_m3=order.volume_m3,
        cash_cny=order.cash_cny,
        skills=order.skills,
        priority=order.priority,
        min_crew=order.min_crew,
        pinned_to=pin,
        label=order.customer,
        days=days,
    )


@dataclass(frozen=True)
class PlanRows:
    routes: list[PlanRoute]
    stops: list[PlanStop]
    unassigned: list[PlanUnassigned]
    deposits: list[PlanDeposit] = field(default_factory=list)

    @property
    def every_row(self) -> list[PlanRoute | PlanStop | PlanUnassigned | PlanDeposit]:
        return [*self.routes, *self.stops, *self.unassigned, *self.deposits]


def result_rows(
    *,
    plan_id: int,
    result: Result,
    orders: Mapping[str, Order],
    pinned: Sequence[str] = (),
    banks: Sequence[Bank] = (),
) -> PlanRows:
    """A solver Result as rows of plan `plan_id`; `banks` are the planning day's."""
    routes, stops, deposits = [], [], []
    for route in result.routes:
        route_row, stop_rows = route_rows(
            plan_id=plan_id, route=route, orders=orders, pinned=pinned
        )
        routes.append(route_row)
        stops += stop_rows
        deposits += deposit_rows(plan_id=plan_id, route=route, banks=banks)
    unassigned = [
        PlanUnassigned(
            plan_id=plan_id,
            order_id=stored_id(orders[u.visit_id]),
            code=u.code.value,
            reason=u.reason,
        )
        for u in result.unassigned
    ]
    return PlanRows(routes=routes, stops=stops, unassigned=unassigned, deposits=deposits)


def route_rows(
    *, plan_id: int, route: Route, orders: Mapping[str, Order], pinned: Collection[str] = ()
) -> tuple[PlanRoute, list[PlanStop]]:
    """One timed route as its PlanRoute row and its PlanStop rows (also after an edit)."""
    route_row = PlanRoute(
        plan_id=plan_id,
        vehicle_code=route.vehicle_id,
        departure=route.departure,
        return_time=route.return_time,
        distance_m=route.distance,
    )
    stops = [
        PlanStop(
            plan_id=plan_id,
            vehicle_code=route.vehicle_id,
            position=position,
            order_id=stored_id(orders[stop.visit_id]),
            arrival=stop.arrival,
            start=stop.start,
            departure=stop.departure,
            weight_on_board_g=stop.weight_on_board,
            volume_on_board_cm3=stop.volume_on_board,
            cash_on_board_fen=stop.cash_on_board,
            distance_from_previous_m=stop.distance_from_previous,
            pinned=stop.visit_id in pinned,
        )
        for position, stop in enumerate(route.stops, start=1)
    ]
    return route_row, stops


def stored_id(order: Order) -> int:
    """An order's database id; an order not yet stored cannot be on a plan."""
    if order.id is None:
        raise ValueError(f"order {order.external_id!r} is not stored yet")
    return order.id


def stored_routes(
    stops: Sequence[PlanStop], external_ids: Mapping[int, str]
) -> dict[str, list[str]]:
    """Vehicle code -> external ids in route order: the shape check_routes and solve take."""
    routes: dict[str, list[str]] = {}
    for stop in sorted(stops, key=lambda s: (s.vehicle_code, s.position)):
        routes.setdefault(stop.vehicle_code, []).append(external_ids[stop.order_id])
    return routes


def stored_result(
    *,
    routes: Sequence[PlanRoute],
    stops: Sequence[PlanStop],
    unassigned: Sequence[PlanUnassigned],
    external_ids: Mapping[int, str],
    kpis: Mapping[str, object],
    seed: int,
    deposits: Sequence[PlanDeposit] = (),
) -> Result:
    """Stored plan rows back as an optimizer Result (for maps and checks)."""
    banked = stored_deposits(deposits)
    by_vehicle: dict[str, list[Stop]] = {}
    for row in sorted(stops, key=lambda s: (s.vehicle_code, s.position)):
        by_vehicle.setdefault(row.vehicle_code, []).append(
            Stop(
                visit_id=external_ids[row.order_id],
                arrival=row.arrival,
                start=row.start,
                departure=row.departure,
                weight_on_board=row.weight_on_board_g,
                volume_on_board=row.volume_on_board_cm3,
                cash_on_board=row.cash_on_board_fen,
                distance_from_previous=row.distance_from_previous_m,
            )
        )
    return Result(
        status=Status.FEASIBLE,
        routes=tuple(
            Route(
                route.vehicle_code,
                route.departure,
                route.return_time,
                tuple(by_vehicle.get(route.vehicle_code, ())),
                route.distance_m,
                banked.get(route.vehicle_code, ()),
            )
            for route in sorted(routes, key=lambda r: r.vehicle_code)
        ),
        unassigned=tuple(
            Unassigned(external_ids[row.order_id], ReasonCode(row.code), row.reason)
            for row in unassigned
        ),
        kpis=Kpis(**{field: kpis.get(field, 0) for field in Kpis.__slots__}),  # type: ignore[arg-type]
        objective=0,
        seconds=0.0,
        seed=seed,
    )


def display_input(
    *,
    session: Session,
    date: dt.date,
    orders: Sequence[Order],
    settings: DispatchSettings,
    area: str | None = None,
    deposits: Sequence[PlanDeposit] = (),
) -> ProblemData:
    """ProblemData of exactly these orders with the area's fleet, whatever their status now.

    A plan is shown long after its orders were delivered or cancelled, so it cannot be
    rebuilt from what is plannable today. `area` is the plan's (left out: the only one);
    `settings` its local ones. The banks are those of the plan's `deposits`, where they
    were when planned; only their place and name are shown.
    """
    area = area_or_only(session, area)
    model = Model()
    model.add_skills(session.exec(select(Skill.name)))
    depots = _add_depots(model, session, area)
    add_stored_banks(model, deposits)
    for vehicle in area_vehicles(session=session, area=area):
        _add_vehicle(model, vehicle, depots, {}, settings)
    for order in orders:
        _try_order(model, order, settings, None)  # one refused when planned is not on a route
    return model.data(matrix_provider(settings))

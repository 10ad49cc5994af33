"""Stored rows become an optimizer Model: a day's planning input, and a stored plan's display.

With `api.plans.mapping` (a Result back into rows) it is the one place where the service and
the optimizer meet. Visit ids are the order system's external ids and vehicle ids are vehicle
codes, so a Result can be read back without any lookup table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from api.banks.service import area_banks
from api.core.errors import RuleBroken
from api.core.roads import matrix_provider
from api.fleet.models import CrewMember, Depot, Skill, Vehicle
from api.orders.bounds import stored_order_problem
from api.orders.models import Order
from api.orders.window import visit_window
from api.plans.deposits import add_banks, add_stored_banks
from api.plans.models import PlanDeposit
from api.plans.plannable import (
    area_or_only,
    area_vehicles,
    later_technician_orders,
    plannable_orders,
    visit_days,
    working_vehicles,
)
from optimizer.data import ProblemData, VehicleKind
from optimizer.matrix import PointRefused
from optimizer.model import Model
from optimizer.result import ReasonCode, Result, Unassigned
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
    refused: dict[str, tuple[Order, str]] = {}

    def build(off_road: Mapping[str, str]) -> Model:
        model = _fleet_model(
            session=session, area=area, date=date, horizon=horizon, settings=settings
        )
        refused.clear()
        refused.update(_add_orders(model, orders, days, later, settings, pins or {}, off_road))
        return model

    return PlanningInput(
        area=area,
        date=date,
        data=_on_the_roads(build, settings),
        orders={o.external_id: o for o in orders if o.external_id not in refused},
        refused=refused,
    )


def _on_the_roads(
    build: Callable[[Mapping[str, str]], Model], settings: DispatchSettings
) -> ProblemData:
    """The model `build` makes, frozen on the settings' travel times.

    A visit the road provider cannot reach is left out (`build` gets its id and why) and the
    rest of the day goes on; a depot or bank off the roads stops it, naming the place.
    """
    off_road: dict[str, str] = {}
    while True:
        try:
            return build(off_road).data(matrix_provider(settings))
        except PointRefused as error:
            if error.family != "visit" or error.place_id is None or error.place_id in off_road:
                raise RuleBroken(str(error), field="lat") from None
            off_road[error.place_id] = (
                f"order {error.place_id} cannot be planned: {error.detail}; correct its address"
            )


def _add_orders(
    model: Model,
    orders: Sequence[Order],
    days: Mapping[str, tuple[int, int]],
    later: Sequence[tuple[int, Order]],
    settings: DispatchSettings,
    pins: Mapping[str, str],
    off_road: Mapping[str, str],
) -> dict[str, tuple[Order, str]]:
    """Add the day's visits (and later days' technician visits); the refused ones, named."""
    refused = {}
    for order in orders:
        pin, when = pins.get(order.external_id), days[order.external_id]
        why = _try_order(model, order, settings, pin, when, off_road.get(order.external_id))
        if why is not None:
            refused[order.external_id] = (order, why)
    for day, order in later:
        if order.external_id not in days:
            # Refused here too, it is named in the plan of its own day.
            _try_order(model, order, settings, None, (day, day), off_road.get(order.external_id))
    return refused


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
    off_road: str | None = None,
) -> str | None:
    """Add the order's visit; why it cannot be planned when the model refuses it.

    One bad row (written by an old release, or by hand) must not stop a whole day's
    planning, so it is left out, named with the field at fault; so is one the road provider
    found too far from any road (`off_road`).
    """
    if off_road is not None:
        return off_road
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

    def build(off_road: Mapping[str, str]) -> Model:
        model = Model()
        model.add_skills(session.exec(select(Skill.name)))
        depots = _add_depots(model, session, area)
        add_stored_banks(model, deposits)
        for vehicle in area_vehicles(session=session, area=area):
            _add_vehicle(model, vehicle, depots, {}, settings)
        for order in orders:
            # One refused when planned (its data, or off the roads) is not on a route.
            _try_order(model, order, settings, None, off_road=off_road.get(order.external_id))
        return model

    return _on_the_roads(build, settings)

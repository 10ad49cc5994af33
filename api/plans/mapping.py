"""A Result becomes rows, and stored rows a Result again; `api.plans.model_input` turns
stored rows into the optimizer's Model. Together they are the one place where the service and
the optimizer meet."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from api.orders.models import Order
from api.plans.deposits import deposit_rows, stored_deposits
from api.plans.models import PlanDeposit, PlanRoute, PlanStop, PlanUnassigned
from optimizer.data import Bank
from optimizer.result import Kpis, ReasonCode, Result, Route, Status, Stop, Unassigned


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

"""The working state of a plan edit, and the one transaction that stores it.

A Draft is the stored routing by external id, each deposit anchored to the visit it
follows; an edit changes it, the optimizer fits the deposits of the routes it touched, the
checker judges them, build_route re-times them, and `store` writes it with the version
bump. The bump is a conditional UPDATE on the version the dispatcher saw, so of two edits
made from the same version exactly one wins, whichever process made them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from api.areas.scope import check_scope
from api.auth.service import Principal
from api.core.errors import Conflict, NotFound
from api.orders.models import Order, OrderEvent, OrderStatus
from api.plans.deposits import anchored, deposit_rows, route_order, stored_deposits
from api.plans.mapping import route_rows, stored_id, stored_result, stored_routes
from api.plans.models import (
    Plan,
    PlanChange,
    PlanDeposit,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanUnassigned,
)
from api.plans.plannable import working_vehicles
from optimizer.check import check_routes
from optimizer.data import Bank, ProblemData
from optimizer.deposits import fit_deposits
from optimizer.kpis import plan_kpis
from optimizer.result import ReasonCode, Route
from optimizer.schedule import build_route


@dataclass(frozen=True)
class Editor:
    """Who edits, the plan version they saw (If-Match), and when; `key` is the caller's key,
    whose scope must hold the plan's area (None: the service itself)."""

    by: str
    version: int
    now: dt.datetime
    key: Principal | None = None

    def check_scope(self, plan: Plan) -> None:
        if self.key is not None:
            check_scope(self.key, plan.area_code)


@dataclass
class Draft:
    """A plan's routing by external id: what an edit changes before anything is stored."""

    routes: dict[str, list[str]]
    pinned: dict[str, str]  # external id -> the vehicle it is pinned to
    unassigned: dict[str, tuple[str, str]]  # external id -> (reason code, reason)
    affected: set[str] = field(default_factory=set)  # vehicles whose route changed
    # Vehicle -> its deposits as (the visit each follows, None: the first stop; bank id), so
    # a deposit stays after the same customer whatever moves around it.
    deposits: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)

    def vehicle_of(self, order: str) -> str | None:
        return next((v for v, visits in self.routes.items() if order in visits), None)

    def take(self, order: str) -> str | None:
        """Take an order off the plan; the vehicle it left, or None when it was unassigned."""
        vehicle = self.vehicle_of(order)
        if vehicle is not None:
            route = self.routes[vehicle]
            index = route.index(order)
            # A deposit after the visit leaving keeps its place in the order.
            before = route[index - 1] if index else None
            self.deposits[vehicle] = [
                (before if anchor == order else anchor, bank)
                for anchor, bank in self.deposits.get(vehicle, [])
            ]
            route.remove(order)
            self.affected.add(vehicle)
        elif self.unassigned.pop(order, None) is None:
            raise NotFound(f"order {order!r} is not on this plan")
        return vehicle

    def placed(self) -> dict[str, list[tuple[int, str]]]:
        """Vehicle -> its deposits as (stops before it, bank id), for the checker."""
        return {
            vehicle: [
                (0 if anchor is None else self.routes[vehicle].index(anchor) + 1, bank)
                for anchor, bank in deposits
            ]
            for vehicle, deposits in self.deposits.items()
            if deposits and self.routes.get(vehicle)
        }

    def fit(self, data: ProblemData, vehicles: Collection[str]) -> None:
        """Let the optimizer keep, drop or add the deposits of these routes so each can be
        driven (optimizer.deposits.fit_deposits); a route nothing fixes stays for the checker
        to name its rule."""
        placed, fleet = self.placed(), {v.id for v in data.vehicles}
        offered = {bank.id for bank in data.banks}
        for vehicle in set(vehicles) & fleet:
            # A branch no longer offered is no deposit to keep; another may replace it.
            kept = [(after, bank) for after, bank in placed.get(vehicle, ()) if bank in offered]
            order = route_order(data, self.routes.get(vehicle, []), kept)
            if order is None:
                continue
            fitted = fit_deposits(data, data.vehicle_index(vehicle), order)
            if fitted is not None:
                self.deposits[vehicle] = anchored(data, fitted)

    def pins(self, session: Session, plan: Plan) -> dict[str, str]:
        """External id -> vehicle for pinned stops whose crew still works on the plan's day."""
        working = working_vehicles(session=session, date=plan.date, area=plan.area_code)
        fleet = {vehicle.code for vehicle in working}
        return {
            order: vehicle for order, vehicle in sorted(self.pinned.items()) if vehicle in fleet
        }


@dataclass(frozen=True)
class Stored:
    """A plan's rows as loaded, with every order they name (whatever its status now)."""

    plan: Plan
    routes: list[PlanRoute]
    stops: list[PlanStop]
    unassigned: list[PlanUnassigned]
    orders: dict[int, Order]
    deposits: list[PlanDeposit] = field(default_factory=list)

    @property
    def plan_id(self) -> int:
        if self.plan.id is None:
            raise ValueError("the plan is not stored yet")
        return self.plan.id

    @property
    def external_ids(self) -> dict[int, str]:
        return {order_id: order.external_id for order_id, order in self.orders.items()}

    @property
    def by_external_id(self) -> dict[str, Order]:
        return {order.external_id: order for order in self.orders.values()}

    def draft(self) -> Draft:
        ids = self.external_ids
        routes = stored_routes(self.stops, ids)
        deposits: dict[str, list[tuple[str | None, str]]] = {}
        for vehicle, stops in stored_deposits(self.deposits).items():
            route = routes.get(vehicle, [])
            deposits[vehicle] = [
                (route[min(d.after, len(route)) - 1] if d.after and route else None, d.bank_id)
                for d in stops
            ]
        return Draft(
            routes=routes,
            pinned={ids[s.order_id]: s.vehicle_code for s in self.stops if s.pinned},
            unassigned={ids[row.order_id]: (row.code, row.reason) for row in self.unassigned},
            deposits=deposits,
        )

    def routes_except(self, vehicles: Collection[str]) -> tuple[Route, ...]:
        """The stored routes of every other vehicle, as they are."""
        result = stored_result(
            routes=[row for row in self.routes if row.vehicle_code not in vehicles],
            stops=[row for row in self.stops if row.vehicle_code not in vehicles],
            unassigned=[],
            external_ids=self.external_ids,
            kpis={},
            seed=self.plan.seed,
            deposits=[row for row in self.deposits if row.vehicle_code not in vehicles],
        )
        return result.routes


@dataclass(frozen=True)
class Change:
    """How the edit is recorded in the plan's history."""

    kind: str  # move, pin, unpin, unassign, reoptimize, publish, supersede
    detail: dict[str, Any]
    override_reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """What an edit stores: timed routes replacing those of `replaced` (None: every route)."""

    replaced: Collection[str] | None
    routes: Sequence[Route]
    draft: Draft  # the pins and the unassigned visits after the edit
    orders: Mapping[str, Order]
    plan_values: dict[str, Any]
    banks: Sequence[Bank] = ()  # the day's, where the new routes' deposits are made


def load(session: Session, plan: Plan) -> Stored:
    def rows(table: Any) -> list[Any]:
        return list(session.exec(select(table).where(table.plan_id == plan.id).order_by(table.id)))

    stops, unassigned = rows(PlanStop), rows(PlanUnassigned)
    ids = {row.order_id for row in (*stops, *unassigned)}
    orders: Sequence[Order] = (
        session.exec(select(Order).where(col(Order.id).in_(ids))).all() if ids else []
    )
    return Stored(
        plan=plan,
        routes=rows(PlanRoute),
        stops=stops,
        unassigned=unassigned,
        orders={order.id: order for order in orders if order.id is not None},
        deposits=rows(PlanDeposit),
    )


def judge(
    data: ProblemData,
    routes: Mapping[str, Sequence[str]],
    deposits: Mapping[str, Sequence[tuple[int, str]]] | None = None,
) -> None:
    """409 naming the first rule the routes (with their deposits, as (stops before it, bank
    id)) break, in the checker's own words."""
    violations = check_routes(
        data, {vehicle: visits for vehicle, visits in routes.items() if visits}, deposits
    )
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise Conflict(first.message + more, rule=first.rule)


def retime(
    data: ProblemData,
    routes: Mapping[str, Sequence[str]],
    deposits: Mapping[str, Sequence[tuple[int, str]]] | None = None,
) -> list[Route]:
    timed = []
    for vehicle, visits in routes.items():
        if not visits:
            continue
        order = route_order(data, visits, (deposits or {}).get(vehicle, ()))
        route = None if order is None else build_route(data, data.vehicle_index(vehicle), order)
        if route is None:
            # The checker has just passed this order, so only a disagreement gets here.
            raise Conflict(f"{vehicle}'s new route cannot be timed; the plan is unchanged")
        timed.append(route)
    return timed


def left_out(unassigned: Mapping[str, tuple[str, str]]) -> int:
    """Visits the plan leaves out; one put off to a later day of its window is not one."""
    return sum(code != ReasonCode.LATER_DAY.value for code, _ in unassigned.values())


def kpis(data: ProblemData, routes: Sequence[Route], unassigned: int) -> dict[str, Any]:
    # A stored route of a crew no longer working that day cannot be measured against its shift.
    fleet = {vehicle.id for vehicle in data.vehicles}
    return asdict(plan_kpis(data, [r for r in routes if r.vehicle_id in fleet], unassigned))


def store(
    session: Session, stored: Stored, editor: Editor, outcome: Outcome, change: Change
) -> None:
    """Bump the version, replace the rows, record the change: all committed, or nothing."""
    plan_id = stored.plan_id
    version = bump(session, plan_id, editor.version, outcome.plan_values)
    before = {stop.order_id for stop in stored.stops}
    after = _replace_rows(session, plan_id, outcome)
    if stored.plan.status is PlanStatus.PUBLISHED:
        follow_orders(
            session,
            on=after,
            off=before - after,
            plan_id=plan_id,
            date=stored.plan.date,
            editor=editor,
        )
    record(session, plan_id, version, editor, change)
    session.commit()
    session.expire_all()


def record(session: Session, plan_id: int, version: int, editor: Editor, change: Change) -> None:
    session.add(
        PlanChange(
            plan_id=plan_id,
            version=version,
            kind=change.kind,
            by=editor.by,
            override_reason=change.override_reason,
            detail=change.detail,
            at=editor.now,
        )
    )


def bump(session: Session, plan_id: int, expected: int, values: Mapping[str, Any]) -> int:
    """Take the next version, or fail with 409 when another edit took it first."""
    bumped = session.exec(
        update(Plan)
        .where(col(Plan.id) == plan_id, col(Plan.version) == expected)
        .values(version=expected + 1, **values)
    )
    if bumped.rowcount != 1:
        session.rollback()
        current = session.exec(select(Plan.version).where(Plan.id == plan_id)).one()
        raise Conflict(f"the plan changed (version {current}); reload and retry")
    return expected + 1


def _replace_rows(session: Session, plan_id: int, outcome: Outcome) -> set[int]:
    """Write the new routes and unassigned rows; the order ids on routes afterwards."""
    stops = delete(PlanStop).where(col(PlanStop.plan_id) == plan_id)
    routes = delete(PlanRoute).where(col(PlanRoute.plan_id) == plan_id)
    deposits = delete(PlanDeposit).where(col(PlanDeposit.plan_id) == plan_id)
    if outcome.replaced is not None:
        stops = stops.where(col(PlanStop.vehicle_code).in_(outcome.replaced))
        routes = routes.where(col(PlanRoute.vehicle_code).in_(outcome.replaced))
        deposits = deposits.where(col(PlanDeposit.vehicle_code).in_(outcome.replaced))
    # Statements, not ORM deletes: the unit of work would insert the new rows first and
    # trip the one-stop-per-order constraint.
    session.exec(stops)
    session.exec(routes)
    session.exec(deposits)
    session.exec(delete(PlanUnassigned).where(col(PlanUnassigned.plan_id) == plan_id))
    for route in outcome.routes:
        route_row, stop_rows = route_rows(
            plan_id=plan_id, route=route, orders=outcome.orders, pinned=outcome.draft.pinned
        )
        session.add(route_row)
        session.add_all(stop_rows)
        session.add_all(deposit_rows(plan_id=plan_id, route=route, banks=outcome.banks))
    for order, (code, reason) in outcome.draft.unassigned.items():
        order_id = stored_id(outcome.orders[order])
        session.add(PlanUnassigned(plan_id=plan_id, order_id=order_id, code=code, reason=reason))
    session.flush()
    return set(session.exec(select(PlanStop.order_id).where(PlanStop.plan_id == plan_id)))


def follow_orders(
    session: Session,
    *,
    on: Collection[int],
    off: Collection[int],
    plan_id: int,
    date: dt.date,
    editor: Editor,
) -> None:
    """Orders on a published plan's routes are planned; those taken off are booked again.

    A visit the planner could have put off (an installation) now has its day: the plan's.
    """
    steps = (
        (on, OrderStatus.BOOKED, OrderStatus.PLANNED, "planned"),
        (off, OrderStatus.PLANNED, OrderStatus.BOOKED, "unplanned"),
    )
    for ids, was, becomes, kind in steps:
        if not ids:
            continue
        # Locked, so an order cancelled meanwhile is skipped instead of silently revived.
        query = select(Order).where(col(Order.id).in_(ids), Order.status == was).with_for_update()
        for order in session.exec(query):
            order.status, order.updated_at = becomes, editor.now
            if becomes is OrderStatus.PLANNED and order.latest_date is not None:
                order.date = date
            session.add(order)
            session.add(
                OrderEvent(
                    order_id=stored_id(order),
                    kind=kind,
                    at=editor.now,
                    by=editor.by,
                    detail={"plan_id": plan_id},
                )
            )

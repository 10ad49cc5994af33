"""Cheapest feasible insertion of visits the engine left out.

Local search under a time limit sometimes leaves a visit out although a crew could still
take it; a last greedy pass re-inserts such visits where they cost the fewest metres. Where a
crew's cash cap keeps cash visits out, a deposit added to its route may make room for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optimizer.data import ProblemData
from optimizer.deposits import blocked_crews, cash_binds, depositors, pruned, with_deposit
from optimizer.result import Route
from optimizer.schedule import build_route

# Deposits added to a crew's route per repair at most: each is tried only after the last
# one's room has been filled.
MAX_DEPOSIT_ROUNDS = 3


def insert_left_out(
    data: ProblemData,
    routes: dict[int, list[int]],
    timed: dict[int, Route],
    left_out: Sequence[int],
    allowed: Mapping[int, Sequence[int]],
) -> list[int]:
    """Insert what fits into `routes`/`timed` in place, with deposits where they make room;
    return the visits still left out."""
    still_out = _insert(data, left_out, allowed, routes, timed)
    may = set(depositors(data))
    for _ in range(MAX_DEPOSIT_ROUNDS if may else 0):
        # Each crew whose cash keeps a left-out visit out gets a deposit; those that made
        # room for nothing are taken back.
        crews = blocked_crews(data, routes, still_out, allowed, may)
        if not crews:
            break
        # A deposit makes room for cash only, and only on those crews' routes.
        blocked = set(crews)
        retry = [v for v in still_out if data.visits[v].cash and blocked.intersection(allowed[v])]
        _with_deposits(data, crews, routes, timed, add=True)
        placed = set(retry) - set(_insert(data, retry, allowed, routes, timed))
        _with_deposits(data, crews, routes, timed, add=False)
        if not placed:
            break
        still_out = [v for v in still_out if v not in placed]
    return still_out


def with_cash_visits(
    data: ProblemData, allowed: Mapping[int, Sequence[int]], plan: Mapping[int, Sequence[int]]
) -> dict[int, list[int]] | None:
    """`plan` with the left-out cash visits that deposits make room for; None when no crew's
    cash keeps a visit out or the plan has a route build_route refuses."""
    crews = depositors(data)
    if not crews or not cash_binds(data, allowed, plan, crews):
        return None
    routes = {vehicle: list(route) for vehicle, route in plan.items()}
    timed = {}
    for vehicle, route in routes.items():
        built = build_route(data, vehicle, route)
        if built is None:
            return None
        timed[vehicle] = built
    served = {item for route in routes.values() for item in route}
    cash_out = [v for v in sorted(allowed) if v not in served and data.visits[v].cash]
    insert_left_out(data, routes, timed, cash_out, allowed)
    return routes


def _with_deposits(
    data: ProblemData,
    crews: Sequence[int],
    routes: dict[int, list[int]],
    timed: dict[int, Route],
    *,
    add: bool,
) -> None:
    """Add one deposit to each crew's route, or drop those it can do without."""
    for vehicle in crews:
        order = routes.get(vehicle, [])
        if add:
            added = with_deposit(data, vehicle, order)
            order = added if added is not None else order
            route = build_route(data, vehicle, order)
        else:
            order, route = pruned(data, vehicle, order)
        if route is not None:
            routes[vehicle], timed[vehicle] = order, route


def _insert(
    data: ProblemData,
    left_out: Sequence[int],
    allowed: Mapping[int, Sequence[int]],
    routes: dict[int, list[int]],
    timed: dict[int, Route],
) -> list[int]:
    """Each visit of `left_out`, highest priority first, where it adds the fewest metres."""
    still_out = []
    by_priority = sorted(left_out, key=lambda v: -data.visits[v].priority)
    for visit in by_priority:
        best = _cheapest_insertion(data, routes, timed, visit, allowed[visit])
        if best is None:
            still_out.append(visit)
            continue
        vehicle, order, route = best
        routes[vehicle] = order
        timed[vehicle] = route
    return still_out


def _cheapest_insertion(
    data: ProblemData,
    routes: dict[int, list[int]],
    timed: dict[int, Route],
    visit: int,
    vehicles: Sequence[int],
) -> tuple[int, list[int], Route] | None:
    best: tuple[int, list[int], Route] | None = None
    best_added = None
    for vehicle in vehicles:
        order = routes.get(vehicle, [])
        current = timed[vehicle].distance if vehicle in timed else 0
        for position in range(len(order) + 1):
            candidate = [*order[:position], visit, *order[position:]]
            route = build_route(data, vehicle, candidate)
            if route is None:
                continue
            added = route.distance - current
            if best_added is None or added < best_added:
                best, best_added = (vehicle, candidate, route), added
    return best

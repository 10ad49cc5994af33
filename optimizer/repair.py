"""Cheapest feasible insertion of visits the engine left out.

Local search under a time limit sometimes leaves a visit out although a crew could still
take it; a last greedy pass re-inserts such visits where they cost the fewest metres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optimizer.data import ProblemData
from optimizer.result import Route
from optimizer.schedule import build_route


def insert_left_out(
    data: ProblemData,
    routes: dict[int, list[int]],
    timed: dict[int, Route],
    left_out: Sequence[int],
    allowed: Mapping[int, Sequence[int]],
) -> list[int]:
    """Insert what fits into `routes`/`timed` in place; return the visits still left out."""
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

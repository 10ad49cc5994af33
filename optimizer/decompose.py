"""Cutting a plan into parts that separate searches can improve at the same time.

Two independent searches on two cores only keep the better of two plans: the other core's
work is thrown away. Split into regions instead, each core improves its own half of the
routes and both improvements count. A part is a set of whole routes with their crews, so
parts never compete for a visit or a vehicle and their plans simply add up; a different
cut each round lets visits near one round's border move in the next.

Routes are placed by their medoid, the visit nearest on the road to the rest of the route,
because the matrices are all a ProblemData knows of geography for sure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.data import ProblemData


@dataclass(frozen=True)
class Part:
    """Some of the day: its crews, the visits they may take and the routes to start from."""

    vehicles: frozenset[int]
    allowed: dict[int, list[int]]  # visit -> the part's vehicles that may serve it
    initial: dict[int, list[int]]  # vehicle -> visits, for the part's vehicles only


def split(
    data: ProblemData,
    routes: Mapping[int, Sequence[int]],
    allowed: Mapping[int, Sequence[int]],
    *,
    parts: int,
    anchor: int,
) -> list[Part]:
    """Cut the plan into `parts` rings of routes around the route numbered `anchor`.

    The routes nearest the anchor's medoid form the first part, the next ones the second,
    and so on, each holding about an equal share of the served visits. Idle vehicles are
    dealt out in turn; a visit left out joins the part of the nearest route among those
    with a crew that may serve it. Fewer parts come back when there are too few routes.
    """
    used = [vehicle for vehicle in sorted(routes) if routes[vehicle]]
    if parts < 2 or len(used) < 2 * parts:
        return []
    centres = {vehicle: _medoid(data, routes[vehicle]) for vehicle in used}
    origin = centres[used[anchor % len(used)]]
    distance = data.distances
    by_ring = sorted(
        used, key=lambda v: distance[origin, centres[v]] + distance[centres[v], origin]
    )
    served = sum(len(routes[v]) for v in used)
    part_of: dict[int, int] = {}
    running = 0
    for vehicle in by_ring:
        part_of[vehicle] = min(parts - 1, running * parts // served)
        running += len(routes[vehicle])
    idle = [vehicle for vehicle in range(len(data.vehicles)) if vehicle not in part_of]
    for k, vehicle in enumerate(idle):
        part_of[vehicle] = k % parts
    visit_part = {v: part_of[vehicle] for vehicle in used for v in routes[vehicle]}
    for visit in allowed:
        if visit not in visit_part:
            home = _nearest_part(data, visit, allowed[visit], centres, part_of)
            if home is not None:
                visit_part[visit] = home
    return [_part(k, part_of, visit_part, routes, allowed) for k in range(parts)]


def _medoid(data: ProblemData, route: Sequence[int]) -> int:
    """The node of the route's visit with the least travel to and from its other visits."""
    nodes = np.array([data.visit_node(v) for v in route])
    block = data.distances[np.ix_(nodes, nodes)]
    return int(nodes[int(np.argmin(block.sum(axis=0) + block.sum(axis=1)))])


def _nearest_part(
    data: ProblemData,
    visit: int,
    crews: Sequence[int],
    centres: Mapping[int, int],
    part_of: Mapping[int, int],
) -> int | None:
    """The part of the route nearest the visit among parts with a crew that may serve it."""
    reachable = {part_of[vehicle] for vehicle in crews}
    node = data.visit_node(visit)
    candidates = [
        (int(data.distances[node, centre] + data.distances[centre, node]), part_of[vehicle])
        for vehicle, centre in centres.items()
        if part_of[vehicle] in reachable
    ]
    if candidates:
        return min(candidates)[1]
    return min(reachable) if reachable else None


def _part(
    index: int,
    part_of: Mapping[int, int],
    visit_part: Mapping[int, int],
    routes: Mapping[int, Sequence[int]],
    allowed: Mapping[int, Sequence[int]],
) -> Part:
    vehicles = frozenset(vehicle for vehicle, k in part_of.items() if k == index)
    return Part(
        vehicles=vehicles,
        allowed={
            visit: [vehicle for vehicle in allowed[visit] if vehicle in vehicles]
            for visit, k in visit_part.items()
            if k == index
        },
        initial={vehicle: list(routes.get(vehicle, ())) for vehicle in sorted(vehicles)},
    )

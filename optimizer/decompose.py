"""Cutting a plan into parts that separate searches can improve at the same time.

Two independent searches on two cores only keep the better of two plans: the other core's
work is thrown away. Split into regions instead, each core improves its own half of the
routes and both improvements count. A part is a set of whole routes with their crews, so
parts never compete for a visit or a vehicle and their plans simply add up; a different
cut each round lets visits near one round's border move in the next.

Two cuts, because neither wins everywhere (measured on Gehring-Homberger days):
- "ring": the routes nearest the anchor route, by their medoids (the visit nearest on the
  road to the rest of its route, since the matrices are all a ProblemData knows of
  geography for sure). Compact regions; best where routes are short and local.
- "grown": a region grown from the anchor route by adding, each time, the route with the
  visit nearest to the region. It follows long routes that interleave, whose medoids lie
  far apart although their visits are neighbours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.data import ProblemData

Cut = Literal["ring", "grown"]
CUTS: tuple[Cut, ...] = ("ring", "grown")


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
    cut: Cut = "ring",
) -> list[Part]:
    """Cut the plan into `parts` regions of routes, the first around the route numbered `anchor`.

    Routes are ordered outwards from the anchor route by `cut`; the first ones form the
    first part, the next ones the second, and so on, each holding about an equal share of
    the served visits. Idle vehicles are
    dealt out in turn; a visit left out joins the part of the nearest route among those
    with a crew that may serve it. Fewer parts come back when there are too few routes.
    """
    used = [vehicle for vehicle in sorted(routes) if routes[vehicle]]
    if parts < 2 or len(used) < 2 * parts:
        return []
    if cut not in CUTS:
        raise ValueError(f"cut: must be one of {', '.join(CUTS)}, not {cut!r}")
    centres = {vehicle: _medoid(data, routes[vehicle]) for vehicle in used}
    first = used[anchor % len(used)]
    if cut == "ring":
        outwards = _by_ring(data, used, centres, first)
    else:
        outwards = _grown(data, routes, used, first)
    served = sum(len(routes[v]) for v in used)
    part_of: dict[int, int] = {}
    running = 0
    for vehicle in outwards:
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


def _by_ring(
    data: ProblemData, used: Sequence[int], centres: Mapping[int, int], first: int
) -> list[int]:
    """Routes by the road distance, both ways, between their medoid and the first route's."""
    origin, distance = centres[first], data.distances
    return sorted(used, key=lambda v: distance[origin, centres[v]] + distance[centres[v], origin])


def _grown(
    data: ProblemData, routes: Mapping[int, Sequence[int]], used: Sequence[int], first: int
) -> list[int]:
    """Routes in the order a region grows from `first`: next, the one with the nearest visit."""
    nodes = {vehicle: np.array([data.visit_node(v) for v in routes[vehicle]]) for vehicle in used}
    every_node = np.concatenate([nodes[vehicle] for vehicle in used])
    route_of_node = np.repeat(np.arange(len(used)), [len(nodes[vehicle]) for vehicle in used])
    far = np.iinfo(np.int64).max
    # Each visit's travel, both ways, to the nearest visit already in the region.
    gap = np.full(len(every_node), far, dtype=np.int64)
    taken = np.zeros(len(used), dtype=bool)
    order: list[int] = []
    current = list(used).index(first)
    while True:
        taken[current] = True
        order.append(used[current])
        if taken.all():
            return order
        added = nodes[used[current]]
        both_ways = (
            data.distances[np.ix_(every_node, added)] + data.distances[np.ix_(added, every_node)].T
        )
        gap = np.minimum(gap, both_ways.min(axis=1))
        nearest = np.full(len(used), far, dtype=np.int64)
        np.minimum.at(nearest, route_of_node, gap)
        nearest[taken] = far
        current = int(np.argmin(nearest))


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

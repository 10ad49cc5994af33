"""Independent verification of a benchmark solution, from its routes and the instance alone.

Solvers report their own cost and feasibility, but each counts by its own rules; a table that
compares them is only fair if one referee recomputes everything the same way. This module
shares nothing with any solver adapter, uses integers throughout, and returns every breach it
finds rather than the first, so a bad run can be diagnosed from its record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Matrix = NDArray[np.int64]
SHOWN = 5  # ids quoted per reason; a thousand of them helps nobody read the reason


@dataclass(frozen=True, slots=True)
class Verdict:
    feasible: bool
    cost: int  # recomputed, in matrix units, depot to depot over all routes
    vehicles: int  # non-empty routes
    reasons: tuple[str, ...]  # every breach found; empty when feasible


def dimacs_matrix(coords: ArrayLike, scale: int = 10) -> Matrix:
    """Euclidean distances truncated to 1/scale, as integers: floor(scale * |p_i - p_j|).

    The DIMACS VRPTW convention truncates to one decimal. Integer coordinates are handled
    exactly (an integer square root), because a float sqrt can land just below an integer
    and truncate a whole unit away on some pair.
    """
    points = np.asarray(coords)
    delta = points[:, None, :] - points[None, :, :]
    if not np.issubdtype(points.dtype, np.integer):
        return np.floor(scale * np.sqrt((delta.astype(np.float64) ** 2).sum(-1))).astype(np.int64)
    squared = (delta.astype(np.int64) ** 2).sum(-1) * scale * scale
    root = np.floor(np.sqrt(squared.astype(np.float64))).astype(np.int64)
    root -= root * root > squared
    root += (root + 1) * (root + 1) <= squared
    return root


def verify(
    routes: Sequence[Sequence[int]],
    *,
    distances: Matrix,
    demand: Sequence[int] | NDArray[np.int64],
    capacity: int,
    vehicles: int | None = None,
    windows: NDArray[np.int64] | None = None,
    service: NDArray[np.int64] | None = None,
    durations: Matrix | None = None,
    claimed_cost: int | None = None,
    depot: int = 0,
) -> Verdict:
    """Check routes of customer nodes (depot omitted) against a CVRP or, with windows, a VRPTW.

    `durations` defaults to `distances` (the DIMACS convention) and `service` to zero.
    A `claimed_cost` that differs from the recomputed one is itself a breach: it means the
    solver and the referee disagree about what was driven.
    """
    size = len(distances)
    used = [list(map(int, route)) for route in routes if len(route)]
    reasons = _membership(used, size, depot)
    if vehicles is not None and len(used) > vehicles:
        reasons.append(f"{len(used)} routes, but only {vehicles} vehicles are available")
    valid = [r for r in used if all(0 <= n < size and n != depot for n in r)]
    loads = np.asarray(demand, dtype=np.int64)
    for number, route in enumerate(valid, 1):
        load = int(loads[route].sum())
        if load > capacity:
            reasons.append(f"route {number} carries {load}, over the capacity {capacity}")
        if windows is not None:
            timing = durations if durations is not None else distances
            services = service if service is not None else np.zeros(size, dtype=np.int64)
            reasons += _time_breaches(number, route, timing, windows, services, depot)
    cost = sum(_route_cost(route, distances, depot) for route in valid)
    if claimed_cost is not None and claimed_cost != cost:
        reasons.append(f"the solver claims cost {claimed_cost}, the routes cost {cost}")
    return Verdict(feasible=not reasons, cost=cost, vehicles=len(used), reasons=tuple(reasons))


def _membership(routes: Sequence[Sequence[int]], size: int, depot: int) -> list[str]:
    """Every customer exactly once, nothing else on a route."""
    reasons = []
    counts = Counter(node for route in routes for node in route)
    strangers = sorted(n for n in counts if not 0 <= n < size or n == depot)
    if strangers:
        reasons.append(f"routes name nodes that are not customers: {_some(strangers)}")
    twice = sorted(n for n, k in counts.items() if k > 1 and n not in strangers)
    if twice:
        reasons.append(f"{len(twice)} customers served more than once: {_some(twice)}")
    missing = [n for n in range(size) if n != depot and n not in counts]
    if missing:
        reasons.append(f"{len(missing)} customers never served: {_some(missing)}")
    return reasons


def _time_breaches(
    number: int,
    route: Sequence[int],
    durations: Matrix,
    windows: NDArray[np.int64],
    service: NDArray[np.int64],
    depot: int,
) -> list[str]:
    """Earliest-start schedule from the depot's opening: waiting is allowed, lateness is not."""
    reasons = []
    late = []
    node = depot
    ready = int(windows[depot][0]) + int(service[depot])
    for customer in route:
        start = max(ready + int(durations[node, customer]), int(windows[customer][0]))
        if start > int(windows[customer][1]):
            late.append(f"{customer} at {start} > {int(windows[customer][1])}")
        node, ready = customer, start + int(service[customer])
    back = ready + int(durations[node, depot])
    if late:
        reasons.append(f"route {number} starts service late: {_some(late)}")
    if back > int(windows[depot][1]):
        reasons.append(
            f"route {number} returns at {back}, after the depot closes at {int(windows[depot][1])}"
        )
    return reasons


def _route_cost(route: Sequence[int], distances: Matrix, depot: int) -> int:
    nodes = [depot, *route, depot]
    return int(sum(int(distances[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)))


def _some(items: Sequence[object]) -> str:
    shown = ", ".join(str(item) for item in items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")

"""Which crews a search of the whole day may leave at home, and on which days it pays.

Some days are better searched whole with fewer crews than improved part by part: those of
long routes, and those whose routes spend most of their length getting to their first visit
and back. On both, a route saved is worth more than anything parts can reshape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from optimizer.data import ProblemData
from optimizer.engine import EngineRun

# Plans whose routes are this long on average skip the parts: see SQUEEZE_SHARE.
LONG_ROUTE_VISITS = 20
# Long routes settle how many there are early, and a search that settled on one too many
# cannot drop it: every visit of a 30-visit route would become a detour elsewhere, and parts
# cannot change it either. A search given fewer crews from the start finds shorter days
# (Gehring-Homberger C2_10_4 in PyVRP, 30 s: 16,295.0 with 32 routes free, 15,672.7 held to
# 30, measured), so after the first searches one process searches afresh without this share
# of the best plan's routes while the steady search goes on; the shorter plan wins.
# Restarting from the best plan minus its shortest routes did not pay (10 s: 16,622.1 with
# 2 fewer routes against 16,432.1 searching on, measured). In the portfolio the gain is small:
# 0.11% shorter on average over the 15 long-route instances in paired runs, 0.06% at 12%
# (benchmarks/README.md).
SQUEEZE_SHARE = 0.08
# Plans that spend this share of their metres on the trips to each route's first visit and
# back from its last skip the parts too, and a search afresh leaves this share of their
# crews at home: a route saved is then most of what can be saved, and parts, each holding
# some of the routes, rarely find one. Gehring-Homberger C1 (clusters far from the depot)
# spends 83-87% there, R1 and RC1 60-66%, generated full-domain days 61% at 1,000 visits
# and 71% at 2,000 (first searches, measured). The share spared is small because such
# routes are full: C1's 93-99 routes cannot go below 90 by load alone.
DEPOT_LEGS_DOMINATE = 0.8
DEPOT_LEGS_SQUEEZE_SHARE = 0.02


def crews_to_spare(data: ProblemData, run: EngineRun) -> int:
    """How many crews a search afresh leaves at home after the first searches: a share of
    the routes of `run` on days of long routes or of long trips to and from the depot; 0 when
    the day is better improved by parts."""
    if visits_per_route(run) >= LONG_ROUTE_VISITS:
        share = SQUEEZE_SHARE
    elif depot_leg_share(data, run) >= DEPOT_LEGS_DOMINATE:
        share = DEPOT_LEGS_SQUEEZE_SHARE
    else:
        return 0
    routes = sum(1 for route in run.routes.values() if route)
    return max(1, math.ceil(routes * share))


def depot_leg_share(data: ProblemData, run: EngineRun) -> float:
    """Share of the metres driven that go to each route's first visit and back from its last."""
    total = legs = 0
    for vehicle, route in run.routes.items():
        if route:
            nodes = data.route_nodes(vehicle, route)
            metres = data.distances[nodes[:-1], nodes[1:]]
            total += int(metres.sum())
            legs += int(metres[0]) + int(metres[-1])
    return legs / total if total else 0.0


def fewer_crews(
    run: EngineRun, allowed: Mapping[int, Sequence[int]], count: int
) -> dict[int, list[int]] | None:
    """Who may serve what once the crews of the `count` shortest routes stay home, and so do
    idle crews; None when no crew can be spared without leaving a visit nobody may serve.

    Routes go shortest first, skipping a crew that some visit needs.
    """
    used = sorted((v for v, route in run.routes.items() if route), key=lambda v: len(run.routes[v]))
    kept = set(used)
    serves: dict[int, list[int]] = {vehicle: [] for vehicle in used}
    crews_kept: dict[int, int] = {}
    for visit, crews in allowed.items():
        mine = [vehicle for vehicle in crews if vehicle in kept]
        crews_kept[visit] = len(mine)
        for vehicle in mine:
            serves[vehicle].append(visit)
    for vehicle in used:
        if len(kept) == len(used) - count:
            break
        if all(crews_kept[visit] > 1 for visit in serves[vehicle]):
            kept.discard(vehicle)
            for visit in serves[vehicle]:
                crews_kept[visit] -= 1
    if len(kept) == len(used):
        return None
    return {visit: [v for v in crews if v in kept] for visit, crews in allowed.items()}


def visits_per_route(run: EngineRun) -> float:
    """Mean visits on a route that serves any: what tells long routes from short."""
    lengths = [len(route) for route in run.routes.values() if route]
    return sum(lengths) / len(lengths) if lengths else 0.0

"""solve(data, params, seed=...) -> Result: the one entry point to planning a day.

A pure function of its arguments: explain what can never be served, let the engine route
the rest, re-insert what still fits, time every route, and hand the whole plan to the
independent checker before anyone sees it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from optimizer.check import check
from optimizer.data import ProblemData
from optimizer.engine import ProgressCallback
from optimizer.explain import eligibility, no_room
from optimizer.kpis import plan_kpis
from optimizer.params import SolveParams
from optimizer.portfolio import run_engines
from optimizer.repair import insert_left_out
from optimizer.result import ReasonCode, Result, Route, Status, Unassigned
from optimizer.schedule import build_route
from optimizer.tracking import Tracker


def solve(
    data: ProblemData,
    params: SolveParams | None = None,
    *,
    seed: int = 0,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
    progress: ProgressCallback | None = None,
    deadline: float | None = None,
) -> Result:
    """Plan the day. `initial_routes` (vehicle id -> visit ids) warm-starts the search.

    `deadline` (a time.monotonic() instant) lets a caller count its own set-up, such as
    starting a process, against the time limit; by default the limit runs from this call.
    """
    params = params or SolveParams()
    started = time.monotonic()
    deadline = deadline or started + params.time_limit_s
    if progress is not None:
        progress = Tracker(progress, params.time_limit_s, deadline - params.time_limit_s)
    allowed_by_rule = eligibility(data)
    allowed = allowed_by_rule.allowed
    unassigned = [reason for _, reason in allowed_by_rule.rejected]
    if not allowed:
        return _finish(data, {}, unassigned, 0, started, seed, Status.FEASIBLE, ())
    run = run_engines(
        data,
        allowed,
        params,
        seed=seed,
        initial=_indices(data, initial_routes),
        progress=progress,
        deadline=deadline,
    )
    if not run.found:
        unassigned += [
            Unassigned(data.visits[v].id, ReasonCode.NOT_PLANNED, "the solver stopped first")
            for v in sorted(allowed)
        ]
        why = f"the engine stopped ({run.status}) before a first plan; allow more time"
        return _finish(data, {}, unassigned, 0, started, seed, Status.NO_SOLUTION, (why,))
    timed: dict[int, Route] = {}
    for vehicle, visits in run.routes.items():
        route = build_route(data, vehicle, visits)
        if route is None:
            why = f"the engine's route for {data.vehicles[vehicle].id} breaks a rule"
            return _finish(data, {}, unassigned, 0, started, seed, Status.INVALID, (why,))
        timed[vehicle] = route
    routed = {v for visits in run.routes.values() for v in visits}
    left_out = [v for v in sorted(allowed) if v not in routed]
    still_out = insert_left_out(data, run.routes, timed, left_out, allowed)
    unassigned += [no_room(data, v, allowed[v], timed) for v in still_out]
    result = _finish(data, timed, unassigned, run.objective, started, seed, Status.FEASIBLE, ())
    return replace(result, engine=run.status)


def _indices(
    data: ProblemData, routes: Mapping[str, Sequence[str]] | None
) -> dict[int, list[int]] | None:
    if not routes:
        return None
    try:
        return {
            data.vehicle_index(vehicle): [data.visit_index(v) for v in visits]
            for vehicle, visits in routes.items()
        }
    except KeyError as error:
        raise ValueError(f"initial_routes: unknown vehicle or visit {error.args[0]!r}") from None


def _finish(
    data: ProblemData,
    timed: dict[int, Route],
    unassigned: list[Unassigned],
    objective: int,
    started: float,
    seed: int,
    status: Status,
    reasons: tuple[str, ...],
) -> Result:
    routes = tuple(timed[v] for v in sorted(timed) if timed[v].stops)
    order = {visit.id: index for index, visit in enumerate(data.visits)}
    unassigned.sort(key=lambda u: order[u.visit_id])
    result = Result(
        status=status,
        routes=routes,
        unassigned=tuple(unassigned),
        kpis=plan_kpis(data, routes, len(unassigned)),
        objective=objective,
        seconds=round(time.monotonic() - started, 3),
        seed=seed,
        reasons=reasons,
    )
    if status is not Status.FEASIBLE:
        return result
    violations = check(data, result)
    if not violations:
        return result
    return Result(
        status=Status.INVALID,
        routes=result.routes,
        unassigned=result.unassigned,
        kpis=result.kpis,
        objective=objective,
        seconds=result.seconds,
        seed=seed,
        reasons=tuple(v.message for v in violations),
    )

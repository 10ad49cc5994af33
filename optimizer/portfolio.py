"""Which engines run, where, and which plan wins.

Hybrid genetic search finds far shorter routes than OR-Tools' local search on large days, so
it runs first, one search per core with different seeds. OR-Tools then starts from the best
of them: reading the routes into its model re-imposes every domain rule, and its local
search polishes what it can in the time left. The plan with the lower objective (metres
driven plus the drop penalties of visits left out) wins.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from multiprocessing.synchronize import Event
from typing import Any

from optimizer.data import ProblemData
from optimizer.engine import (
    EngineRun,
    Progress,
    ProgressCallback,
    drop_penalties,
    solve_with_ortools,
)
from optimizer.hgs import solve_with_hgs
from optimizer.params import SolveParams

# Below this many visits a search is too short to pay for starting another process.
PARALLEL_FROM_VISITS = 150
# Share of the time limit kept for OR-Tools to polish in, used only when visits are still
# left out (its insertion moves can place some): on a plan that serves everyone its local
# search does not shorten what genetic search found.
POLISH_SHARE = 0.05
# Kept after the engines for re-inserting, timing, checking and explaining the plan: a
# share of the limit, or more on large days, where that work grows with the visits (a
# 2,000-visit day overran a 60 s limit by 0.6 s with the share alone, measured).
FINISH_SHARE = 0.02
FINISH_S_PER_VISIT = 0.001
# Building the OR-Tools model takes about a second per 2,000 visits (measured), outside its
# own search limit; a polish that cannot search at least a second is skipped.
MODEL_BUILD_S_PER_VISIT = 0.0005
MIN_POLISH_S = 1.0
# Beyond this many visits, OR-Tools needs more than a minute just to take over the genetic
# plan (72 s at 5,000 visits, measured), far past any share of the limit we could give it.
POLISH_UP_TO_VISITS = 2_500
# Share of its time a search for everyone gets to find such a plan before it turns optional.
REQUIRED_PROBE_SHARE = 0.25
FIRST_PROBE_SHARE = 0.10


@dataclass(frozen=True)
class Deadlines:
    """When genetic searches must end (time.monotonic() instants).

    A search with optional visits stops early enough for OR-Tools to polish its plan; a
    search that finds a plan serving everyone needs no polish, so it searches on to the end.
    """

    optional: float
    everyone: float


def objective(data: ProblemData, run: EngineRun, allowed: Mapping[int, Sequence[int]]) -> int:
    """Metres driven plus the penalties of visits left out: what both engines minimise."""
    served = {v for visits in run.routes.values() for v in visits}
    visits = sorted(allowed)
    penalty = sum(
        p for v, p in zip(visits, drop_penalties(data, visits), strict=True) if v not in served
    )
    metres = 0
    for vehicle, route in run.routes.items():
        if route:
            v = data.vehicles[vehicle]
            nodes = [v.start_depot, *(data.visit_node(i) for i in route), v.end_depot]
            metres += int(data.distances[nodes[:-1], nodes[1:]].sum())
    return metres + penalty


def run_engines(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    params: SolveParams,
    *,
    seed: int,
    initial: Mapping[int, Sequence[int]] | None,
    progress: ProgressCallback | None,
    deadline: float | None = None,
) -> EngineRun:
    """Route the allowed visits by `deadline` (time.monotonic(); default: the time limit)."""
    use_hgs = "hgs" in params.engines and not initial
    if not use_hgs:
        return solve_with_ortools(
            data, allowed, params, seed=seed, initial=initial, progress=progress
        )
    started = time.monotonic()
    limit = params.time_limit_s
    finishing = max(limit * FINISH_SHARE, len(allowed) * FINISH_S_PER_VISIT)
    finish_by = (deadline or started + limit) - finishing
    polish = "ortools" in params.engines and len(allowed) <= POLISH_UP_TO_VISITS
    build_s = len(allowed) * MODEL_BUILD_S_PER_VISIT
    hgs_until = finish_by - (max(limit * POLISH_SHARE, build_s + 2 * MIN_POLISH_S) if polish else 0)
    latch = _Latch(progress)
    deadlines = Deadlines(optional=hgs_until, everyone=finish_by)
    best = _best_hgs(data, allowed, params, seed, deadlines, latch if progress else None)
    if progress is not None and best.found:
        # Genetic search reports only costs while it runs; say what it achieved.
        served = sum(len(route) for route in best.routes.values())
        latch(Progress(time.monotonic() - started, limit, objective(data, best, allowed), served))
    left = finish_by - time.monotonic() - build_s
    if best.found and (
        not polish or latch.stopped or left < MIN_POLISH_S or _serves_all(best, allowed)
    ):
        return best
    if "ortools" not in params.engines:
        return best  # nothing found, and no other engine allowed to try
    polished = solve_with_ortools(
        data,
        allowed,
        replace(params, time_limit_s=max(left, MIN_POLISH_S), metaheuristic="greedy_descent"),
        seed=seed,
        initial=best.routes if best.found else None,
        progress=progress,
    )
    # The label tells a polished genetic plan from an OR-Tools plan made from scratch.
    polished = replace(polished, status=f"{best.status}+{polished.status}")
    runs = [run for run in (best, polished) if run.found]
    if not runs:
        return polished
    return min(runs, key=lambda run: objective(data, run, allowed))


def _serves_all(run: EngineRun, allowed: Mapping[int, Sequence[int]]) -> bool:
    served = sum(len(route) for route in run.routes.values())
    return run.found and served == len(allowed)


class _Latch:
    """Remembers a stop request, so a stopped search is not followed by another one."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self.progress = progress
        self.stopped = False

    def __call__(self, update: Progress) -> bool:
        if not self.stopped and self.progress is not None and self.progress(update):
            self.stopped = True
        return self.stopped


def _best_hgs(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    params: SolveParams,
    seed: int,
    deadlines: Deadlines,
    progress: ProgressCallback | None,
) -> EngineRun:
    iterations = params.solution_limit * 50 if params.solution_limit else None
    workers = min(params.workers, os.cpu_count() or 1)
    if workers <= 1 or len(allowed) < PARALLEL_FROM_VISITS:
        return _search(data, allowed, deadlines, iterations, seed, False, progress)
    runs = _in_children(data, allowed, deadlines, iterations, workers, seed, progress)
    found = [run for run in runs if run.found]
    if not found:
        return runs[0]
    return min(found, key=lambda run: objective(data, run, allowed))


def _search(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    deadlines: Deadlines,
    iterations: int | None,
    seed: int,
    required: bool,
    report: ProgressCallback | None,
    give_up_share: float = REQUIRED_PROBE_SHARE,
) -> EngineRun:
    """One genetic search with the portfolio's stopping rules.

    A search for everyone that finds no such plan within a share of its time is an
    over-full day: it continues as an optional search instead of wasting its core.
    """
    deadline = deadlines.everyone if required else deadlines.optional
    run = solve_with_hgs(
        data,
        allowed,
        deadline=deadline,
        seed=seed,
        max_iterations=iterations,
        no_improvement=_patience(len(allowed)),
        report=report,
        required=required,
        give_up_after_s=(
            (deadlines.optional - time.monotonic()) * give_up_share if required else None
        ),
    )
    if run.found or not required:
        return run
    fallback = _search(data, allowed, deadlines, iterations, seed + 1, False, report)
    return replace(fallback, status=f"{fallback.status} (no plan serves everyone)")


def _patience(visits: int) -> int:
    """Iterations without improvement before a search gives up: quick on small days only."""
    return max(2_000, 40 * visits)


def fits_the_fleet(data: ProblemData, allowed: Mapping[int, Sequence[int]]) -> bool:
    """Whether the day's loads fit the fleet's capacities at all: worth asking for everyone."""
    visits = [data.visits[v] for v in allowed]
    return all(
        sum(amount(v) for v in visits) <= sum(cap(c) for c in data.vehicles)
        for amount, cap in (
            (lambda v: v.weight, lambda c: c.weight_capacity),
            (lambda v: v.volume, lambda c: c.volume_capacity),
            (lambda v: v.cash, lambda c: c.cash_cap),
        )
    )


def _child(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    deadlines: Deadlines,
    iterations: int | None,
    seed: int,
    give_up_share: float | None,
    out: Any,
    stop: Event,
) -> None:
    def report(update: Progress) -> bool:
        out.put(("progress", update))
        return stop.is_set()

    try:
        required = give_up_share is not None
        run = _search(
            data, allowed, deadlines, iterations, seed, required, report, give_up_share or 0.0
        )
        out.put(("run", run))
    except BaseException as error:  # the parent must hear how every child ended
        out.put(("error", f"{type(error).__name__}: {error}"))


def _in_children(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    deadlines: Deadlines,
    iterations: int | None,
    workers: int,
    seed: int,
    progress: ProgressCallback | None,
) -> list[EngineRun]:
    """One genetic search per core, each with its own seed; their runs when all are done."""
    context = mp.get_context("spawn")  # no fork: the caller may hold threads and connections
    out = context.Queue()
    stop = context.Event()
    # When the loads fit, every search asks for everyone: a narrower and stronger search.
    # The first gives up sooner on a day that turns out over-full, so such a day still
    # gets most of one core's time for a search with optional visits.
    everyone = fits_the_fleet(data, allowed)
    children = [
        context.Process(
            target=_child,
            args=(
                data,
                dict(allowed),
                deadlines,
                iterations,
                seed + k,
                (REQUIRED_PROBE_SHARE if k else FIRST_PROBE_SHARE) if everyone else None,
                out,
                stop,
            ),
        )
        for k in range(workers)
    ]
    for child in children:
        child.start()
    runs: list[EngineRun] = []
    failures: list[str] = []
    try:
        while len(runs) + len(failures) < workers:
            try:
                kind, payload = out.get(timeout=1.0)
            except queue.Empty:
                if not any(child.is_alive() for child in children) and out.empty():
                    break
                continue
            if kind == "run":
                runs.append(payload)
            elif kind == "error":
                failures.append(payload)
            elif progress is not None and progress(payload):
                stop.set()
    finally:
        stop.set()
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
        out.close()
    if not runs:
        reason = "; ".join(failures) or "the search processes ended without a result"
        return [EngineRun(routes={}, objective=0, found=False, status=f"HGS_FAILED: {reason}")]
    return runs

"""Which engines run, where, and which plan wins.

Hybrid genetic search finds far shorter routes than OR-Tools' local search on large days, so
it runs first, one search per core with different seeds; on larger days the searches then
improve one part of the best plan each, round after round (optimizer.decompose), so that
both cores' work counts, and one part a round may try doing with one crew fewer. Long
routes, which parts reshape poorly, and routes whose trips to and from the depot are most of
their length, instead keep one search going from the start (optimizer.pool's steady search,
which never restarts) beside one that starts afresh with fewer crews, then with one crew
fewer, and searches on from the best plan when neither finds a plan. OR-Tools then starts
from the best plan: reading the routes into its model re-imposes every domain rule, and its
local search polishes what it can in the time left. The plan with the lower objective
(metres driven plus the drop penalties of visits left out) wins.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from optimizer.data import ProblemData, visits_of
from optimizer.decompose import Part, split
from optimizer.deposits import cash_exceeds_caps
from optimizer.engine import (
    EngineRun,
    Progress,
    ProgressCallback,
    drop_penalties,
    solve_with_ortools,
)
from optimizer.params import SolveParams
from optimizer.pool import Deadlines, SearchPool, Task, search
from optimizer.repair import with_cash_visits
from optimizer.spare import crews_to_spare, fewer_crews

# Below this many visits a search is too short to pay for starting another process.
PARALLEL_FROM_VISITS = 150
# Share of the time limit kept for OR-Tools to polish in, used only when visits are still
# left out (its insertion moves can place some): on a plan that serves everyone its local
# search does not shorten what genetic search found.
POLISH_SHARE = 0.05
# Where the day's cash is more than its crews may carry, the genetic search cannot serve it
# (it plans no deposits) and the polish, given the deposits the repair adds, has more to do.
DEPOSIT_POLISH_SHARE = 0.25
# Kept after the engines for re-inserting, timing, checking and explaining the plan: a
# share of the limit, or more on large days, where that work grows with the visits (a
# 2,000-visit day overran a 60 s limit by 0.6 s with the share alone, measured).
FINISH_SHARE = 0.02
FINISH_S_PER_VISIT = 0.001
# A plan that serves everyone needs neither re-insertion nor explanations, only timing and
# checking: 12 ms at 1,000 visits, with 60 ms more to end the search processes (Gehring-
# Homberger C2_10_2, measured), so searches that serve everyone stop this much before the
# limit instead, at most the reserve above.
EVERYONE_FINISH_S = 0.25
EVERYONE_FINISH_S_PER_VISIT = 0.0002
# Building the OR-Tools model takes about a second per 2,000 visits (measured), outside its
# own search limit; a polish that cannot search at least a second is skipped.
MODEL_BUILD_S_PER_VISIT = 0.0005
MIN_POLISH_S = 1.0
# OR-Tools checks its time limit only between moves, and its insertion moves (the ones that
# place left-out visits, the point of a polish) ran 0.7-1.5 s past the limit on a 500-visit
# day (measured). The polish is told to end this much earlier, growing with the day up to
# the largest overrun measured.
POLISH_OVERRUN_S_PER_VISIT = 0.003
MAX_POLISH_OVERRUN_S = 1.5
# Beyond this many visits, OR-Tools needs more than a minute just to take over the genetic
# plan (72 s at 5,000 visits, measured), far past any share of the limit we could give it.
POLISH_UP_TO_VISITS = 2_500
# From this many visits the searches, after a first search each of the whole day, take
# turns improving parts of the best plan (optimizer.decompose), one part per core.
DECOMPOSE_FROM_VISITS = 400
# Share of the searches' time spent on whole-day searches before the parts. Parts reshape
# short routes well: on full-domain days (about 11 visits a route) 40% scored 0.3-0.6% worse
# than 25% on average (measured, within the spread of single runs).
WHOLE_DAY_SHARE = 0.25
# What the engine label (Result.engine) adds to say how a large day was searched after the
# first searches, so a plan, a benchmark record or a test can tell the strategies apart.
BY_PARTS = "then by parts"
FEWER_CREWS_TRIED = "then with fewer crews tried"
# How long a round of parts runs; a last stretch shorter than MIN_ROUND_S joins the round.
ROUND_S = 5.0
MIN_ROUND_S = 2.0
# A search afresh with fewer crews may find no plan at all: on Gehring-Homberger C2_10_1,
# C2_10_3 and C2_10_5 (3 crews fewer of 31-32) it searched 44 s and found none, while
# wherever one exists the first came within 1.5 s (measured). So it gives up after this
# share of its time, and its process searches on from the best plan with every crew.
FEWER_CREWS_GIVE_UP_SHARE = 0.4
# When that search gives up, one crew fewer often still finds a plan: on C2_10_3 and C2_10_5
# (3 crews fewer of 31-32 found none) it found 30 and 31 routes, 16,069.8 and 16,701.3
# against 16,379.6 and 16,938.5 searching on from the best plan (60 s, measured). It gives
# up after half the time of the first, so a day where it too finds none still searches on.
ONE_FEWER_GIVE_UP_SHARE = 0.5


def objective(data: ProblemData, run: EngineRun, allowed: Mapping[int, Sequence[int]]) -> int:
    """Metres driven plus the penalties of visits left out: what both engines minimise."""
    served = {v for visits in run.routes.values() for v in visits}
    visits = sorted(allowed)
    penalty = sum(
        p for v, p in zip(visits, drop_penalties(data, visits), strict=True) if v not in served
    )
    return metres_driven(data, run) + penalty


def metres_driven(data: ProblemData, run: EngineRun) -> int:
    metres = 0
    for vehicle, route in run.routes.items():
        if route:
            nodes = data.route_nodes(vehicle, route)
            metres += int(data.distances[nodes[:-1], nodes[1:]].sum())
    return metres


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
    polish = "ortools" in params.engines and len(allowed) <= POLISH_UP_TO_VISITS
    share = DEPOSIT_POLISH_SHARE if polish and cash_exceeds_caps(data, allowed) else POLISH_SHARE
    stages = timeline(deadline or started + limit, limit, len(allowed), polish=polish, share=share)
    polish_by, deadlines = stages.polish_by, stages.searches
    latch = _Latch(progress)

    def announce(run: EngineRun) -> bool:
        # Genetic search reports only costs while it runs; say what it achieved.
        served = sum(len(visits_of(route)) for route in run.routes.values())
        elapsed = time.monotonic() - started
        cost = objective(data, run, allowed)
        return latch(Progress(elapsed, limit, cost, served, metres_driven(data, run), True))

    best = _best_hgs(data, allowed, params, seed, deadlines, latch if progress else None, announce)
    if best.found and data.banks and not _serves_all(best, allowed):
        best = _with_deposits(data, allowed, best)
    if progress is not None and best.found:
        announce(best)
    left = polish_by - time.monotonic() - stages.model_build_s
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
        # Building the model can take longer than estimated; a polish must not overrun.
        deadline=polish_by if best.found else None,
    )
    # The label tells a polished genetic plan from an OR-Tools plan made from scratch.
    polished = replace(polished, status=f"{best.status}+{polished.status}")
    runs = [run for run in (best, polished) if run.found]
    if not runs:
        return polished
    return min(runs, key=lambda run: objective(data, run, allowed))


@dataclass(frozen=True)
class Timeline:
    """When the stages of a run must end (time.monotonic() instants)."""

    searches: Deadlines  # the genetic searches, with visits optional or serving everyone
    polish_by: float  # OR-Tools' polish of a plan that leaves visits out
    model_build_s: float  # the polish's time to build its model, before it can search


def timeline(
    end: float, limit: float, visits: int, *, polish: bool, share: float = POLISH_SHARE
) -> Timeline:
    """The stages of a run of `limit` seconds over `visits` that must be over by `end`."""
    finishing = max(limit * FINISH_SHARE, visits * FINISH_S_PER_VISIT)
    finish_by = end - finishing
    polish_by = finish_by - min(visits * POLISH_OVERRUN_S_PER_VISIT, MAX_POLISH_OVERRUN_S)
    build_s = visits * MODEL_BUILD_S_PER_VISIT
    polish_s = max(limit * share, build_s + 2 * MIN_POLISH_S)
    optional = polish_by - polish_s if polish else finish_by
    everyone = end - min(finishing, EVERYONE_FINISH_S + visits * EVERYONE_FINISH_S_PER_VISIT)
    return Timeline(Deadlines(optional=optional, everyone=everyone), polish_by, build_s)


def _serves_all(run: EngineRun, allowed: Mapping[int, Sequence[int]]) -> bool:
    served = sum(len(visits_of(route)) for route in run.routes.values())
    return run.found and served == len(allowed)


def _with_deposits(
    data: ProblemData, allowed: Mapping[int, Sequence[int]], run: EngineRun
) -> EngineRun:
    """`run` with the cash visits it left out that a deposit makes room for.

    The genetic search keeps every crew under its cap over the whole day, and OR-Tools' local
    search does not add a bank and a visit in one move, so the polish starts from here.
    """
    routes = with_cash_visits(data, allowed, run.routes)
    if routes is None:
        return run
    seeded = replace(run, routes=routes)
    seeded = replace(seeded, objective=objective(data, seeded, allowed))
    return seeded if seeded.objective < objective(data, run, allowed) else run


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
    announce: Callable[[EngineRun], bool],
) -> EngineRun:
    iterations = params.solution_limit * 50 if params.solution_limit else None
    workers = min(params.workers, os.cpu_count() or 1)
    if workers <= 1 or len(allowed) < PARALLEL_FROM_VISITS:
        return search(data, allowed, deadlines, iterations, seed, False, progress)
    # A solution limit asks for a reproducible run; rounds end on the clock, so none then.
    by_parts = len(allowed) >= DECOMPOSE_FROM_VISITS and iterations is None
    started = time.monotonic()
    whole_day = _shortened(deadlines, WHOLE_DAY_SHARE, started) if by_parts else deadlines
    with SearchPool(
        data,
        allowed,
        whole_day,
        iterations,
        workers=workers,
        seed=seed,
        progress=progress,
        steady=deadlines if by_parts else None,
    ) as pool:
        runs = pool.first_runs()
        found = [run for run in runs if run.found]
        spare = 0
        if by_parts and found and not pool.stopped:
            best = min(found, key=lambda run: objective(data, run, allowed))
            spare = crews_to_spare(data, best)
        if spare:
            squeezed = [best, *_squeeze(data, allowed, pool, best, deadlines, seed, spare)]
            best = min(squeezed, key=lambda run: objective(data, run, allowed))
            return replace(best, status=f"{best.status} {FEWER_CREWS_TRIED}")
        steady = pool.steady_run(now=True)
        runs += [steady] if steady is not None else []
        found = [run for run in runs if run.found]
        if not found:
            reason = "; ".join(pool.failures) or "the search processes ended without a result"
            failed = EngineRun(routes={}, objective=0, found=False, status=f"HGS_FAILED: {reason}")
            return runs[0] if runs else failed
        best = min(found, key=lambda run: objective(data, run, allowed))
        if by_parts and not pool.stopped:
            best = _improve_by_parts(data, allowed, pool, best, deadlines, seed, announce)
            return replace(best, status=f"{best.status} {BY_PARTS}")
    return best


def _shortened(deadlines: Deadlines, share: float, since: float) -> Deadlines:
    return Deadlines(
        optional=since + (deadlines.optional - since) * share,
        everyone=since + (deadlines.everyone - since) * share,
    )


def _squeeze(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    pool: SearchPool,
    best: EngineRun,
    deadlines: Deadlines,
    seed: int,
    spare: int,
) -> list[EngineRun]:
    """What the rest of the time made: the steady process searched on, and the other searched
    the whole day afresh with `spare` crews fewer than `best` used (optimizer.spare), then
    with one fewer if that found no plan, or on from `best` when neither found one or no
    crew could be spared."""
    until = deadlines.everyone if _serves_all(best, allowed) else deadlines.optional
    tasks = _squeeze_tasks(best, allowed, until, seed, spare)
    runs = [_first_found(pool, tasks, until), pool.steady_run(now=False)]
    return [run for run in runs if run is not None and run.found]


def _squeeze_tasks(
    best: EngineRun, allowed: Mapping[int, Sequence[int]], until: float, seed: int, spare: int
) -> list[Task]:
    """The searches a squeeze tries in turn, until one finds a plan (see _first_found)."""
    everyone = _serves_all(best, allowed)
    visits = {visit: list(crews) for visit, crews in allowed.items()}
    plan = {vehicle: list(route) for vehicle, route in best.routes.items()}
    search_on = Task(visits, plan, until, seed + 501, everyone)
    fewer = fewer_crews(best, allowed, spare)
    if fewer is None:
        return [search_on]
    give_up = (until - time.monotonic()) * FEWER_CREWS_GIVE_UP_SHARE
    tasks = [Task(fewer, {}, until, seed + 501, everyone, give_up_s=give_up)]
    one_fewer = fewer_crews(best, allowed, 1) if spare > 1 else None
    if one_fewer is not None:
        one_give_up = give_up * ONE_FEWER_GIVE_UP_SHARE
        tasks.append(Task(one_fewer, {}, until, seed + 503, everyone, give_up_s=one_give_up))
    return [*tasks, replace(search_on, seed=seed + 502)]


def _first_found(pool: SearchPool, tasks: Sequence[Task], until: float) -> EngineRun | None:
    """The run of the first of `tasks` to find a plan, each handed to one process in turn
    while at least a short round is left (None: no process could take them)."""
    run = None
    for k, task in enumerate(tasks):
        if k and until - time.monotonic() < MIN_ROUND_S:
            break
        runs = pool.improve([task])
        run = runs[0] if runs else None
        if run is not None and run.found:
            break
    return run


def _improve_by_parts(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    pool: SearchPool,
    best: EngineRun,
    deadlines: Deadlines,
    seed: int,
    announce: Callable[[EngineRun], bool],
) -> EngineRun:
    """Rounds of one part per process, each round cut differently, until the deadline.

    The first part of a round may search with one crew fewer (see _one_crew_fewer)."""
    everyone = _serves_all(best, allowed)
    deadline = deadlines.everyone if everyone else deadlines.optional
    cuts = random.Random(seed)
    one_fewer = _Backoff()
    for round_ in itertools.count():
        left = deadline - time.monotonic()
        if left < MIN_ROUND_S or pool.stopped or pool.size < 2:
            break
        ends = deadline if left < ROUND_S + MIN_ROUND_S else time.monotonic() + ROUND_S
        parts = split(data, best.routes, allowed, parts=pool.size, anchor=cuts.randrange(2**30))
        if not parts:
            break
        tasks = [
            Task(part.allowed, part.initial, ends, seed + 1_000 * (round_ + 1) + k, everyone)
            for k, part in enumerate(parts)
        ]
        squeezed = _one_crew_fewer(tasks[0], parts[0]) if one_fewer.due(round_) else None
        if squeezed is not None:
            tasks[0] = squeezed
        routes = dict(best.routes)
        improved: set[int] = set()
        for k, (part, run) in enumerate(zip(parts, pool.improve(tasks), strict=True)):
            before = EngineRun(routes=part.initial, objective=0, found=True, status="")
            if (
                run is not None
                and run.found
                and objective(data, run, part.allowed) < objective(data, before, part.allowed)
            ):
                routes.update({vehicle: run.routes.get(vehicle, []) for vehicle in part.vehicles})
                improved.add(k)
        if squeezed is not None:
            one_fewer.record(round_, paid=0 in improved)
        merged = replace(best, routes=routes)
        best = replace(merged, objective=objective(data, merged, allowed))
        if announce(best):
            break
    return best


# A part searched with one crew fewer (the crew of its shortest route stays home) finds the
# plans with fewer routes that a part keeping every crew settles short of: on Gehring-Homberger
# C1_10_3 41,190.6 with 95 routes became 40,807.7 with 94 (paired runs, 60 s). Tight windows
# rarely allow it (R1), so after each try that does not pay the next one waits twice as many
# rounds: a failed try costs one part one round.
def _one_crew_fewer(task: Task, part: Part) -> Task | None:
    """`task`, searching its part without the crew of its shortest route that no visit
    needs alone; None when every crew is needed."""
    start = EngineRun(routes=part.initial, objective=0, found=True, status="")
    fewer = fewer_crews(start, part.allowed, 1)
    if fewer is None:
        return None
    kept = {crew for crews in fewer.values() for crew in crews}
    plan = {vehicle: route for vehicle, route in part.initial.items() if vehicle in kept}
    return replace(task, allowed=fewer, initial=plan)


class _Backoff:
    """When to try something that may not pay again: each failure doubles the wait, and a
    success makes it due every round again."""

    def __init__(self) -> None:
        self.next_round = 0
        self.wait = 1

    def due(self, round_: int) -> bool:
        return round_ >= self.next_round

    def record(self, round_: int, *, paid: bool) -> None:
        self.wait = 1 if paid else self.wait * 2
        self.next_round = round_ + self.wait

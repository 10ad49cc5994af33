"""PyVRP's hybrid genetic search as a second engine, on the same ProblemData.

PyVRP has no notion of skills, visit kinds, crew sizes, days or pins, but it has routing
profiles: each vehicle type travels on its own matrices. A vehicle that may not serve a visit
gets a profile in which that visit is unreachable, so every compatibility rule becomes
geometry. A vehicle's day is only such a rule (see Vehicle.day), so it needs nothing else.
Weight, volume and cash are capacity dimensions, each only where some route could exceed
it (cash only grows along a route, so its cap is a capacity); slots and shifts are time
windows; optional visits carry prizes equal to the drop penalties of the OR-Tools engine,
so both engines optimise one objective.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyvrp
from numpy.typing import NDArray
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.IteratedLocalSearch import (
    IteratedLocalSearch,
    IteratedLocalSearchCallbacks,
    IteratedLocalSearchParams,
)
from pyvrp.PenaltyManager import PenaltyManager
from pyvrp.search import LocalSearch, PerturbationManager

from optimizer.data import LOADS, ProblemData, Vehicle, Visit
from optimizer.engine import EngineRun, Progress, drop_penalties
from optimizer.neighbours import compatible_neighbours

# Travel time into a forbidden visit: longer than any day, so no window can be met.
FORBIDDEN_SECONDS = 10 * 24 * 3600
# The cost PyVRP reports while it holds no feasible plan.
NO_FEASIBLE_PLAN = 2**63 - 1
StopCheck = Callable[[Progress], bool | None]


class _Criterion:
    """PyVRP asks this every iteration; it applies the limits and relays progress."""

    def __init__(
        self,
        deadline: float,
        max_iterations: int | None,
        no_improvement: int | None,
        report: StopCheck | None,
        give_up_after_s: float | None = None,
    ):
        self.started = time.monotonic()
        self.deadline = deadline
        self.give_up_after_s = give_up_after_s
        self.iterations = pyvrp.stop.MaxIterations(max_iterations) if max_iterations else None
        self.stale = pyvrp.stop.NoImprovement(no_improvement) if no_improvement else None
        self.report = report
        self.count = 0
        self.best = _BestPlan(None)

    def __call__(self, best_cost: int) -> bool:
        now = time.monotonic()
        self.count += 1
        if (
            self.give_up_after_s is not None
            and best_cost >= NO_FEASIBLE_PLAN
            and now - self.started > self.give_up_after_s
        ):
            return True  # no feasible plan so far: the time is better spent elsewhere
        if self.report is not None and self.count % 200 == 1:
            limit = self.deadline - self.started
            # Until a feasible plan exists PyVRP's cost is a sentinel, not a cost: say "none".
            cost = 0 if best_cost >= NO_FEASIBLE_PLAN else int(best_cost)
            update = Progress(now - self.started, limit, cost, *self.best.plan())
            if self.report(update):
                return True
        if self.iterations is not None and self.iterations(best_cost):
            return True
        if self.stale is not None and self.stale(best_cost):
            return True
        return now >= self.deadline


class _BestPlan(IteratedLocalSearchCallbacks):
    """Keeps the search's best solution for the criterion's reports; the search is untouched.

    PyVRP hands the criterion only a cost. The best solution arrives with every iteration
    (keeping a reference costs nothing) and is read only when a report is due.
    """

    def __init__(self, warm: pyvrp.Solution | None) -> None:
        self.best = warm

    def on_iteration(
        self,
        current: pyvrp.Solution,
        candidate: pyvrp.Solution,
        best: pyvrp.Solution,
        cost_evaluator: pyvrp.CostEvaluator,
    ) -> None:
        self.best = best

    def plan(self) -> tuple[int, int]:
        """Visits routed and metres of the best feasible plan; (0, 0) while there is none."""
        if self.best is None or not self.best.is_feasible():
            return (0, 0)
        return (self.best.num_clients(), int(self.best.distance()))


def _profiles(
    data: ProblemData, visits: Sequence[int], allowed: Mapping[int, Sequence[int]]
) -> tuple[list[int | None], list[frozenset[int]]]:
    """Group vehicles that may serve the same visits; each group is one routing profile.

    A vehicle that may serve none of the visits gets no profile and stays out of the search
    (unless no vehicle serves any): a part of a decomposed day would otherwise carry every
    other part's crews, and a duration matrix for them.
    """
    serves: dict[int, set[int]] = defaultdict(set)
    for visit in visits:
        for vehicle in allowed[visit]:
            serves[vehicle].add(visit)
    kinds: list[frozenset[int]] = []
    profile_of: list[int | None] = []
    for vehicle in range(len(data.vehicles)):
        key = frozenset(serves[vehicle])
        if not key and serves:
            profile_of.append(None)
            continue
        if key not in kinds:
            kinds.append(key)
        profile_of.append(kinds.index(key))
    return profile_of, kinds


def _matrices(
    data: ProblemData, visits: Sequence[int], kinds: Sequence[frozenset[int]]
) -> tuple[list[NDArray[np.int64]], list[NDArray[np.int64]]]:
    """One distance matrix shared by every profile, and one duration matrix per profile.

    A forbidden visit is blocked by travel time alone: no window can be met after ten days
    on the road, so no feasible plan contains it. Sharing the distance matrix saves one
    full matrix per profile while PyVRP copies them in, the day's peak of memory.
    """
    nodes = np.array([*range(len(data.depots)), *(data.visit_node(v) for v in visits)])
    distance = data.distances[np.ix_(nodes, nodes)]
    np.fill_diagonal(distance, 0)
    by_duration = []
    for kind in kinds:
        blocked = [len(data.depots) + k for k, v in enumerate(visits) if v not in kind]
        duration = data.durations[np.ix_(nodes, nodes)]
        duration[:, blocked] = FORBIDDEN_SECONDS
        np.fill_diagonal(duration, 0)
        by_duration.append(duration)
    return [distance] * len(kinds), by_duration


def _vehicle_groups(data: ProblemData, profile_of: Sequence[int | None]) -> list[list[int]]:
    """Identical vehicles share a PyVRP vehicle type; a route of a type maps back to one."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, v in enumerate(data.vehicles):
        if profile_of[index] is None:
            continue
        key = (
            v.start_depot,
            v.end_depot,
            v.weight_capacity,
            v.volume_capacity,
            v.cash_cap,
            data.vehicle_window(v),
            profile_of[index],
        )
        groups.setdefault(key, []).append(index)
    return list(groups.values())


def _neighbourhood(
    data: ProblemData, visits: Sequence[int], allowed: Mapping[int, Sequence[int]]
) -> dict[pyvrp.Activity, list[pyvrp.Activity]] | None:
    """Neighbours among visits that can share a route; None when every crew may serve all."""
    profile_of, kinds = _profiles(data, visits, allowed)
    if len(kinds) <= 1:
        return None  # one profile: PyVRP's own neighbourhood is already right
    nodes = np.array([data.visit_node(v) for v in visits])
    ranked = compatible_neighbours(
        data.durations[np.ix_(nodes, nodes)],
        np.array([data.visits[v].tw_start for v in visits]),
        np.array([data.visits[v].tw_end for v in visits]),
        np.array([data.visits[v].service_time for v in visits]),
        [
            frozenset(p for vehicle in allowed[v] if (p := profile_of[vehicle]) is not None)
            for v in visits
        ],
    )
    client = pyvrp.ActivityType.CLIENT
    return {
        pyvrp.Activity(client, k): [pyvrp.Activity(client, j) for j in near]
        for k, near in enumerate(ranked)
    }


def _search(
    problem: pyvrp.ProblemData,
    criterion: _Criterion,
    seed: int,
    neighbours: dict[pyvrp.Activity, list[pyvrp.Activity]] | None,
    warm: pyvrp.Solution | None = None,
) -> pyvrp.Result:
    """pyvrp.solve, except that the local search may get our own neighbourhood."""
    criterion.best = _BestPlan(warm)
    # Callbacks only observe: they do not take part in PyVRP's comparison of parameters.
    params = pyvrp.SolveParams(ils=IteratedLocalSearchParams(callbacks=criterion.best))
    if neighbours is None:
        return pyvrp.solve(
            problem,
            stop=criterion,
            seed=seed,
            collect_stats=False,
            initial_solution=warm,
            params=params,
        )
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    search = LocalSearch(problem, rng, neighbours, PerturbationManager(params.perturbation))
    for operator in params.operators:
        if operator.supports(problem):
            search.add_operator(operator(problem))
    penalties = PenaltyManager(params.penalty.midpoint_penalties(problem), params.penalty)
    if warm is None:
        start = pyvrp.Solution.make_random(problem, rng)
        warm = search(start, penalties.max_cost_evaluator(), exhaustive=True)
    ils = IteratedLocalSearch(problem, penalties, search, warm, params.ils)
    return ils.run(criterion, False, False, params.display_interval)


def build_problem(
    data: ProblemData, allowed: Mapping[int, Sequence[int]], *, required: bool = False
) -> tuple[pyvrp.ProblemData, list[int], list[list[int]]]:
    """PyVRP data for the visits in `allowed`; also the visit order and vehicle groups."""
    visits = sorted(allowed)
    prizes = drop_penalties(data, visits)
    profile_of, kinds = _profiles(data, visits, allowed)
    distances, durations = _matrices(data, visits, kinds)
    depots = [
        pyvrp.Depot(location=i, tw_early=d.opens, tw_late=d.closes)
        for i, d in enumerate(data.depots)
    ]
    groups = _vehicle_groups(data, profile_of)
    loads = _binding_loads(data, visits, [group[0] for group in groups])
    clients = [
        pyvrp.Client(
            location=len(data.depots) + k,
            delivery=[amount(data.visits[v]) for amount, _ in loads],
            service_duration=data.visits[v].service_time,
            tw_early=data.visits[v].tw_start,
            tw_late=data.visits[v].tw_end,
            prize=0 if required else prizes[k],
            required=required,
        )
        for k, v in enumerate(visits)
    ]
    types = []
    for group in groups:
        v = data.vehicles[group[0]]
        start, end = data.vehicle_window(v)
        profile = profile_of[group[0]]
        if profile is None:  # _vehicle_groups leaves such vehicles out
            raise RuntimeError(f"vehicle {v.id} has no routing profile")
        types.append(
            pyvrp.VehicleType(
                num_available=len(group),
                capacity=[capacity(v) for _, capacity in loads],
                start_depot=v.start_depot,
                end_depot=v.end_depot,
                tw_early=start,
                tw_late=end,
                profile=profile,
            )
        )
    locations = [pyvrp.Location(x=0, y=0) for _ in range(len(depots) + len(clients))]
    # PyVRP's stubs spell the matrix type oddly; these are the int64 matrices it wants.
    problem = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        types,
        distances,  # type: ignore[arg-type]
        durations,  # type: ignore[arg-type]
    )
    return problem, visits, groups


def _binding_loads(
    data: ProblemData, visits: Sequence[int], vehicles: Sequence[int]
) -> list[tuple[Callable[[Visit], int], Callable[[Vehicle], int]]]:
    """The loads (of optimizer.data.LOADS) that some route could carry beyond its vehicle.

    PyVRP weighs every load at every move it tries: two loads that were zero throughout made
    the same search 8-11% slower (Gehring-Homberger C1_10_4 and R2_10_2, 8,000 iterations,
    measured). A load whose total over the visits fits the smallest of the vehicles binds no
    route, so the search does without it; the checker still checks every load.
    """
    return [
        (amount, capacity)
        for amount, capacity in LOADS
        if sum(amount(data.visits[v]) for v in visits)
        > min((capacity(data.vehicles[i]) for i in vehicles), default=0)
    ]


def solve_with_hgs(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    *,
    deadline: float,
    seed: int,
    max_iterations: int | None = None,
    no_improvement: int | None = None,
    report: StopCheck | None = None,
    required: bool = False,
    give_up_after_s: float | None = None,
    initial: Mapping[int, Sequence[int]] | None = None,
) -> EngineRun:
    """Route the visits in `allowed` with PyVRP; same contract as the OR-Tools engine.

    `required` asks for a plan serving every visit: a narrower search that finds shorter
    routes when the day fits the fleet, and no plan at all when it does not.
    `deadline` is a time.monotonic() instant, valid across processes on one machine; the
    search's own set-up counts against it. `give_up_after_s` ends the search early when it
    has found no feasible plan by then. `initial` (vehicle -> visits, as in EngineRun) is a
    plan to start from instead of a random one.
    """
    problem, visits, groups = build_problem(data, allowed, required=required)
    criterion = _Criterion(deadline, max_iterations, no_improvement, report, give_up_after_s)
    warm = _warm_start(problem, visits, groups, initial) if initial else None
    # PyVRP warns when its penalties reach their bound, as they do on a fleet held below what
    # the day needs (see optimizer.spare.SQUEEZE_SHARE); such a search ends without a
    # feasible plan, which the status below says, so the warning would only clutter the output.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = _search(problem, criterion, seed, _neighbourhood(data, visits, allowed), warm)
    best = result.best
    if not best.is_feasible():
        return EngineRun(routes={}, objective=0, found=False, status="HGS_INFEASIBLE")
    routes: dict[int, list[int]] = {vehicle: [] for vehicle in range(len(data.vehicles))}
    free = [list(group) for group in groups]
    for route in best.routes():
        vehicle = free[route.vehicle_type()].pop(0)
        # A route is a schedule of activities; a client activity's idx counts clients only.
        routes[vehicle] = [visits[step.idx] for step in route if step.is_client()]
    objective = int(best.distance() + best.uncollected_prizes())
    return EngineRun(routes=routes, objective=objective, found=True, status="HGS_OK")


def _warm_start(
    problem: pyvrp.ProblemData,
    visits: Sequence[int],
    groups: Sequence[Sequence[int]],
    initial: Mapping[int, Sequence[int]],
) -> pyvrp.Solution:
    """The plan `initial` as a PyVRP solution: each route on its vehicle's type."""
    client_of = {visit: k for k, visit in enumerate(visits)}
    type_of = {vehicle: t for t, group in enumerate(groups) for vehicle in group}
    routes = [
        pyvrp.Route(problem, [client_of[v] for v in route], type_of[vehicle])
        for vehicle, route in initial.items()
        if route
    ]
    return pyvrp.Solution(problem, routes)

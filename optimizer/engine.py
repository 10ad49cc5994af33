"""The OR-Tools routing engine: the only module that imports OR-Tools.

It receives plain data and returns plain visit orders per vehicle, so no OR-Tools object
ever leaves this module and the rest of the optimizer can be tested and reasoned about
without it.

Deposits: where the cash cap may bind (optimizer.deposits.bank_copies), each bank becomes a
few optional nodes that only crews allowed to deposit may visit, within the bank's hours;
at one of them the cash dimension drops back to zero (a reload: a negative transit the
node's slack makes up, slack allowed at banks only). A route comes back as visit indices
with ~b for a deposit at bank b (see data.deposit_at).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.data import ProblemData, bank_of, deposit_at, is_deposit
from optimizer.deposits import bank_copies
from optimizer.params import SolveParams

DAY = 24 * 3600
# A search given no time at all may come back without even the routes it started from.
MIN_SEARCH_MS = 100
PRIORITY_BASE = 4  # one visit of priority p outweighs three of priority p-1


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a search stands; visits_routed and distance_m are those of its best plan so far.

    Both are 0 while the search holds no plan yet. `settled`: the plan the solve would return
    if stopped now (the portfolio's best whole day), not one search's, which may be of a part.
    """

    elapsed_s: float
    time_limit_s: float
    objective: int
    visits_routed: int
    distance_m: int = 0
    settled: bool = False


@dataclass(frozen=True, slots=True)
class EngineRun:
    routes: dict[int, list[int]]  # vehicle index -> visit indices (and ~bank deposits) in order
    objective: int
    found: bool  # False when the engine stopped before any solution
    status: str


# Returning True asks the engine to stop and keep the best plan found so far.
ProgressCallback = Callable[[Progress], bool | None]


def drop_penalties(data: ProblemData, visits: Sequence[int]) -> list[int]:
    """Penalties large enough that serving a visit always beats the km it costs."""
    longest = int(data.distances.max()) if data.distances.size else 0
    base = 2 * longest + 1
    return [base * PRIORITY_BASE ** data.visits[v].priority for v in visits]


class _Nodes:
    """Engine node numbering: depots first, then the eligible visits in seed order, then
    `copies` nodes per bank (a route may deposit at the same bank more than once)."""

    def __init__(self, data: ProblemData, visits: Sequence[int], copies: int = 0) -> None:
        self.visits = list(visits)
        self.banks = [b for b in range(len(data.banks)) for _ in range(copies)]
        self.global_nodes = np.array(
            [
                *range(len(data.depots)),
                *(data.visit_node(v) for v in self.visits),
                *(data.bank_node(b) for b in self.banks),
            ],
            dtype=np.int64,
        )
        self.offset = len(data.depots)
        self.bank_offset = self.offset + len(self.visits)

    def engine_node_of_visit(self) -> dict[int, int]:
        return {v: self.offset + k for k, v in enumerate(self.visits)}

    def item(self, engine_node: int) -> int:
        """The route item (visit index, or ~bank) of a visit or bank node."""
        if engine_node >= self.bank_offset:
            return deposit_at(self.banks[engine_node - self.bank_offset])
        return self.visits[engine_node - self.offset]

    def is_bank(self, engine_node: int) -> bool:
        return engine_node >= self.bank_offset

    def bank_nodes(self) -> list[int]:
        return list(range(self.bank_offset, self.bank_offset + len(self.banks)))


def solve_with_ortools(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    params: SolveParams,
    *,
    seed: int,
    initial: Mapping[int, Sequence[int]] | None = None,
    progress: ProgressCallback | None = None,
    deadline: float | None = None,
) -> EngineRun:
    """Route the visits in `allowed` (visit -> vehicles that may serve it).

    With a `deadline` (a time.monotonic() instant) the search gets whatever time is left
    once the model is built and the initial routes are read in, at most the time limit:
    both take seconds on a large day and OR-Tools' own limit does not count them.
    """
    order = sorted(allowed)
    np.random.default_rng(seed).shuffle(order)  # the seed picks the search path, reproducibly
    nodes = _Nodes(data, order, bank_copies(data, allowed, initial))
    manager = pywrapcp.RoutingIndexManager(
        len(nodes.global_nodes),
        len(data.vehicles),
        [v.start_depot for v in data.vehicles],
        [v.end_depot for v in data.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    _add_costs_and_dimensions(data, nodes, manager, routing)
    _add_visit_rules(data, nodes, allowed, manager, routing)
    _add_bank_rules(data, nodes, manager, routing)
    search = _search_parameters(params)
    started = time.monotonic()
    if progress is not None:

        def report() -> None:
            routed, metres = _routed_and_metres(routing, manager, nodes, len(data.vehicles))
            stop = progress(
                Progress(
                    elapsed_s=time.monotonic() - started,
                    time_limit_s=params.time_limit_s,
                    objective=routing.CostVar().Max(),
                    visits_routed=routed,
                    distance_m=metres,
                )
            )
            if stop:
                routing.solver().FinishCurrentSearch()

        routing.AddAtSolutionCallback(report)
    assignment = _run(routing, manager, nodes, search, initial, deadline)
    if assignment is None:
        return EngineRun(routes={}, objective=0, found=False, status=_status_name(routing))
    return EngineRun(
        routes=_read_routes(data, routing, manager, nodes, assignment),
        objective=assignment.ObjectiveValue(),
        found=True,
        status=_status_name(routing),
    )


def _add_costs_and_dimensions(
    data: ProblemData,
    nodes: _Nodes,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
) -> None:
    picked = nodes.global_nodes
    distances = data.distances[np.ix_(picked, picked)]
    service = np.array(
        [0] * nodes.offset
        + [data.visits[v].service_time for v in nodes.visits]
        + [data.banks[b].service_time for b in nodes.banks],
        dtype=np.int64,
    )
    travel = data.durations[np.ix_(picked, picked)] + service[:, None]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(distances.tolist()))
    time_callback = routing.RegisterTransitMatrix(travel.tolist())
    routing.AddDimension(time_callback, DAY, 2 * DAY, False, "time")
    time_dimension = routing.GetDimensionOrDie("time")
    for vehicle_index, vehicle in enumerate(data.vehicles):
        leave, back_by = data.vehicle_window(vehicle)
        time_dimension.CumulVar(routing.Start(vehicle_index)).SetRange(leave, back_by)
        time_dimension.CumulVar(routing.End(vehicle_index)).SetRange(leave, back_by)
        # Compact the day: leave late, return early, so working hours are not inflated.
        routing.AddVariableMaximizedByFinalizer(
            time_dimension.CumulVar(routing.Start(vehicle_index))
        )
        routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(routing.End(vehicle_index)))
    _add_loads(data, nodes, manager, routing)


def _add_loads(
    data: ProblemData,
    nodes: _Nodes,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
) -> None:
    """Weight and volume, and cash, which only accumulates between deposits: a capacity."""
    most_cash = max((c.cash_cap for c in data.vehicles), default=0)
    for name, amount, capacity in (
        ("weight", lambda v: v.weight, lambda c: c.weight_capacity),
        ("volume", lambda v: v.volume, lambda c: c.volume_capacity),
        ("cash", lambda v: v.cash, lambda c: c.cash_cap),
    ):
        demand = [0] * nodes.offset + [amount(data.visits[v]) for v in nodes.visits]
        if not any(demand):
            continue
        # At a bank the cash on board goes back to zero: the slack there makes up the
        # difference to a transit of minus the largest cap; elsewhere there is no slack.
        reload = name == "cash" and bool(nodes.banks)
        demand += [-most_cash if reload else 0] * len(nodes.banks)
        callback = routing.RegisterUnaryTransitVector(demand)
        routing.AddDimensionWithVehicleCapacity(
            callback, most_cash if reload else 0, [capacity(c) for c in data.vehicles], True, name
        )
        if reload:
            cash = routing.GetDimensionOrDie(name)
            for index in range(routing.Size()):
                if routing.IsStart(index) or not nodes.is_bank(manager.IndexToNode(index)):
                    cash.SlackVar(index).SetValue(0)


def _add_visit_rules(
    data: ProblemData,
    nodes: _Nodes,
    allowed: Mapping[int, Sequence[int]],
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
) -> None:
    time_dimension = routing.GetDimensionOrDie("time")
    everyone = len(data.vehicles)
    penalties = drop_penalties(data, nodes.visits)
    for visit_index, engine_node in nodes.engine_node_of_visit().items():
        index = manager.NodeToIndex(engine_node)
        visit = data.visits[visit_index]
        time_dimension.CumulVar(index).SetRange(visit.tw_start, visit.tw_end)
        vehicles = list(allowed[visit_index])
        if len(vehicles) < everyone:
            # -1 keeps "not performed" possible, so the visit can still be dropped.
            routing.VehicleVar(index).SetValues([-1, *vehicles])
        routing.AddDisjunction([index], penalties[engine_node - nodes.offset])


def _add_bank_rules(
    data: ProblemData,
    nodes: _Nodes,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
) -> None:
    """Bank nodes cost nothing to leave out, take only crews that may deposit, and the whole
    deposit falls within the bank's hours (the time cumul is when the counter starts)."""
    if not nodes.banks:
        return
    time_dimension = routing.GetDimensionOrDie("time")
    depositors = [k for k, vehicle in enumerate(data.vehicles) if data.may_deposit(vehicle)]
    for engine_node in nodes.bank_nodes():
        index = manager.NodeToIndex(engine_node)
        bank = data.banks[bank_of(nodes.item(engine_node))]
        time_dimension.CumulVar(index).SetRange(bank.opens, bank.closes - bank.service_time)
        routing.VehicleVar(index).SetValues([-1, *depositors])
        routing.AddDisjunction([index], 0)


def _search_parameters(params: SolveParams) -> pywrapcp.RoutingSearchParameters:
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution.upper()
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic.upper()
    )
    search.time_limit.FromMilliseconds(int(params.time_limit_s * 1000))
    if params.solution_limit is not None:
        search.solution_limit = params.solution_limit
    return search


def _run(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    nodes: _Nodes,
    search: pywrapcp.RoutingSearchParameters,
    initial: Mapping[int, Sequence[int]] | None,
    deadline: float | None,
) -> pywrapcp.Assignment | None:
    if initial:
        routes = _initial_routes(nodes, initial, routing.vehicles())
        routing.CloseModelWithParameters(search)
        start = routing.ReadAssignmentFromRoutes(routes, True)
        if start is not None:
            _limit_to(search, deadline)
            return routing.SolveFromAssignmentWithParameters(start, search)
    _limit_to(search, deadline)
    return routing.SolveWithParameters(search)


def _initial_routes(
    nodes: _Nodes, initial: Mapping[int, Sequence[int]], vehicles: int
) -> list[list[int]]:
    """Engine nodes of the initial routes; each deposit takes a free copy of its bank, and
    is dropped when the model has none (no bank nodes, or all copies taken)."""
    engine_node = nodes.engine_node_of_visit()
    free: dict[int, list[int]] = {}
    for node in reversed(nodes.bank_nodes()):
        free.setdefault(bank_of(nodes.item(node)), []).append(node)
    routes = []
    for vehicle in range(vehicles):
        route = []
        for item in initial.get(vehicle, ()):
            if is_deposit(item):
                copies = free.get(bank_of(item))
                route += [copies.pop()] if copies else []
            elif item in engine_node:
                route.append(engine_node[item])
        routes.append(route)
    return routes


def _limit_to(search: pywrapcp.RoutingSearchParameters, deadline: float | None) -> None:
    if deadline is None:
        return
    left_ms = int((deadline - time.monotonic()) * 1000)
    search.time_limit.FromMilliseconds(
        max(MIN_SEARCH_MS, min(left_ms, search.time_limit.ToMilliseconds()))
    )


def _read_routes(
    data: ProblemData,
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    nodes: _Nodes,
    assignment: pywrapcp.Assignment,
) -> dict[int, list[int]]:
    routes: dict[int, list[int]] = {}
    for vehicle in range(len(data.vehicles)):
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        visits: list[int] = []
        while not routing.IsEnd(index):
            item = nodes.item(manager.IndexToNode(index))
            # A deposit with nothing collected since the last is a detour for nothing.
            if not is_deposit(item) or _cash_since_deposit(data, visits):
                visits.append(item)
            index = assignment.Value(routing.NextVar(index))
        routes[vehicle] = visits
    return routes


def _cash_since_deposit(data: ProblemData, route: Sequence[int]) -> int:
    cash = 0
    for item in route:
        cash = 0 if is_deposit(item) else cash + data.visits[item].cash
    return cash


def _routed_and_metres(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    nodes: _Nodes,
    vehicles: int,
) -> tuple[int, int]:
    """Visits on a route (deposits are no visits), and metres driven, of the solution the
    search just found."""
    routed = metres = 0
    for vehicle in range(vehicles):
        here = routing.Start(vehicle)
        index = routing.NextVar(here).Value()
        # An unused vehicle goes straight to its end; it drives nothing.
        if routing.IsEnd(index):
            continue
        while True:
            metres += routing.GetArcCostForVehicle(here, index, vehicle)
            if routing.IsEnd(index):
                break
            routed += not nodes.is_bank(manager.IndexToNode(index))
            here, index = index, routing.NextVar(index).Value()
    return routed, metres


def _status_name(routing: pywrapcp.RoutingModel) -> str:
    names = {value: name for name, value in routing_enums_pb2.RoutingSearchStatus.Value.items()}
    return names.get(routing.status(), str(routing.status()))

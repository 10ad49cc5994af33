"""The "plain OR-Tools" baseline: the textbook VRPTW routing model, nothing of ours in it.

It shows what the optimizer adds on top of OR-Tools, so it is deliberately what a newcomer
would write from the OR-Tools guide: distance as arc cost, a capacity and a time dimension,
every visit mandatory, parallel cheapest insertion then guided local search. OR-Tools has no
random seed for this search, so none is taken; only the wall-clock limit varies a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from ortools.constraint_solver import pywrapcp, routing_enums_pb2


class Instance(Protocol):
    """A VRPTW in integers with the depot at node 0; travel time equals distance."""

    @property
    def distances(self) -> NDArray[np.int64]: ...
    @property
    def demand(self) -> NDArray[np.int64]: ...
    @property
    def capacity(self) -> int: ...
    @property
    def windows(self) -> NDArray[np.int64]: ...  # node x (earliest, latest service start)
    @property
    def service(self) -> NDArray[np.int64]: ...
    @property
    def vehicles(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PlainRun:
    routes: list[list[int]]  # customer nodes per used vehicle, depot omitted; empty if none found
    objective: int | None  # total arc cost, i.e. distance, as OR-Tools counts it
    status: str


def solve_plain(instance: Instance, seconds: float) -> PlainRun:
    """Route every customer (nodes 1..n) from depot node 0 within `seconds` of search."""
    distances, vehicles = instance.distances, instance.vehicles
    manager = pywrapcp.RoutingIndexManager(len(distances), vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(distances.tolist()))
    _add_time(routing, manager, instance)
    load = routing.RegisterUnaryTransitVector(instance.demand.tolist())
    capacities = [instance.capacity] * vehicles
    routing.AddDimensionWithVehicleCapacity(load, 0, capacities, True, "load")
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.time_limit.FromMilliseconds(int(seconds * 1000))
    assignment = routing.SolveWithParameters(search)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if assignment is None:
        return PlainRun(routes=[], objective=None, status=status)
    routes = []
    for vehicle in range(vehicles):
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return PlainRun(routes=routes, objective=assignment.ObjectiveValue(), status=status)


def _add_time(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, instance: Instance
) -> None:
    windows = instance.windows
    # Service is charged on leaving a node, so a cumul is the service start at that node.
    travel = instance.distances + instance.service[:, None]
    horizon = int(windows[0][1])
    transit = routing.RegisterTransitMatrix(travel.tolist())
    routing.AddDimension(transit, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    for node in range(1, len(windows)):
        time.CumulVar(manager.NodeToIndex(node)).SetRange(
            int(windows[node][0]), int(windows[node][1])
        )
    for vehicle in range(instance.vehicles):
        for index in (routing.Start(vehicle), routing.End(vehicle)):
            time.CumulVar(index).SetRange(int(windows[0][0]), horizon)

"""Timing and loads of one route, from its visit order alone.

The engine decides the order; this module turns an order into the times and loads a driver
sees. Service starts as early as the window allows; the truck leaves the depot as late as it
can without delaying the first stop, so no crew is told to wait on a customer's doorstep.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.data import ProblemData
from optimizer.result import Route, Stop


def build_route(data: ProblemData, vehicle_index: int, visits: Sequence[int]) -> Route | None:
    """The timed route, or None when the order breaks a window, the shift or a capacity."""
    vehicle = data.vehicles[vehicle_index]
    if not _fits_capacity(data, vehicle_index, visits):
        return None
    window_start, window_end = data.vehicle_window(vehicle)
    nodes = data.route_nodes(vehicle_index, visits)
    starts = _earliest_starts(data, nodes[0], window_start, visits)
    if starts is None:
        return None
    last = visits[-1] if visits else None
    back = (
        window_start
        if last is None
        else starts[-1] + data.visits[last].service_time + int(data.durations[nodes[-2], nodes[-1]])
    )
    if back > window_end:
        return None
    departure = window_start
    if visits:
        departure = max(window_start, starts[0] - int(data.durations[nodes[0], nodes[1]]))
    return _timed_route(data, vehicle_index, visits, nodes, starts, departure, back)


def _fits_capacity(data: ProblemData, vehicle_index: int, visits: Sequence[int]) -> bool:
    vehicle = data.vehicles[vehicle_index]
    chosen = [data.visits[v] for v in visits]
    return (
        sum(v.weight for v in chosen) <= vehicle.weight_capacity
        and sum(v.volume for v in chosen) <= vehicle.volume_capacity
        and sum(v.cash for v in chosen) <= vehicle.cash_cap  # cash only grows along a route
    )


def _earliest_starts(
    data: ProblemData, start_node: int, leave: int, visits: Sequence[int]
) -> list[int] | None:
    starts = []
    node, ready = start_node, leave
    for index in visits:
        visit = data.visits[index]
        next_node = data.visit_node(index)
        start = max(ready + int(data.durations[node, next_node]), visit.tw_start)
        if start > visit.tw_end:
            return None
        starts.append(start)
        node, ready = next_node, start + visit.service_time
    return starts


def _timed_route(
    data: ProblemData,
    vehicle_index: int,
    visits: Sequence[int],
    nodes: Sequence[int],
    starts: Sequence[int],
    departure: int,
    back: int,
) -> Route:
    weight_left = sum(data.visits[v].weight for v in visits)
    volume_left = sum(data.visits[v].volume for v in visits)
    cash = 0
    ready = departure
    stops = []
    for position, index in enumerate(visits):
        visit = data.visits[index]
        arrival = ready + int(data.durations[nodes[position], nodes[position + 1]])
        cash += visit.cash
        stops.append(
            Stop(
                visit_id=visit.id,
                arrival=arrival,
                start=starts[position],
                departure=starts[position] + visit.service_time,
                weight_on_board=weight_left,
                volume_on_board=volume_left,
                cash_on_board=cash,
                distance_from_previous=int(data.distances[nodes[position], nodes[position + 1]]),
            )
        )
        weight_left -= visit.weight
        volume_left -= visit.volume
        ready = starts[position] + visit.service_time
    distance = sum(int(data.distances[a, b]) for a, b in zip(nodes, nodes[1:], strict=False))
    return Route(
        vehicle_id=data.vehicles[vehicle_index].id,
        departure=departure,
        return_time=back if visits else departure,
        stops=tuple(stops),
        distance=distance if visits else 0,
    )

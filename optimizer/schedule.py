"""Timing and loads of one route, from its order of visits and deposits alone.

The engine decides the order; this module turns an order into the times and loads a driver
sees. Service starts as early as the window allows; the truck leaves the depot as late as it
can without delaying the first stop, so no crew is told to wait on a customer's doorstep.
A deposit (see data.deposit_at) waits for the bank to open and hands over all cash on board.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.data import ProblemData, bank_of, visits_of
from optimizer.result import Deposit, Route, Stop


def build_route(data: ProblemData, vehicle_index: int, visits: Sequence[int]) -> Route | None:
    """The timed route, or None when the order breaks a window, the shift, a capacity, the
    cash cap between deposits, a bank's hours, or has a crew deposit that may not."""
    vehicle = data.vehicles[vehicle_index]
    if not _fits_capacity(data, vehicle_index, visits):
        return None
    window_start, window_end = data.vehicle_window(vehicle)
    nodes = data.route_nodes(vehicle_index, visits)
    starts = _earliest_starts(data, nodes[0], window_start, visits)
    if starts is None:
        return None
    back = (
        window_start
        if not visits
        else starts[-1] + _service(data, visits[-1]) + int(data.durations[nodes[-2], nodes[-1]])
    )
    if back > window_end:
        return None
    departure = window_start
    if visits:
        departure = max(window_start, starts[0] - int(data.durations[nodes[0], nodes[1]]))
    return _timed_route(data, vehicle_index, visits, nodes, starts, departure, back)


def _service(data: ProblemData, item: int) -> int:
    return data.visits[item].service_time if item >= 0 else data.banks[bank_of(item)].service_time


def _fits_capacity(data: ProblemData, vehicle_index: int, visits: Sequence[int]) -> bool:
    vehicle = data.vehicles[vehicle_index]
    chosen = [data.visits[v] for v in visits_of(visits)]
    if len(chosen) < len(visits) and not data.may_deposit(vehicle):
        return False
    cash = 0
    for item in visits:
        cash = cash + data.visits[item].cash if item >= 0 else 0
        if cash > vehicle.cash_cap:  # between deposits, cash only grows
            return False
    return (
        sum(v.weight for v in chosen) <= vehicle.weight_capacity
        and sum(v.volume for v in chosen) <= vehicle.volume_capacity
    )


def _earliest_starts(
    data: ProblemData, start_node: int, leave: int, visits: Sequence[int]
) -> list[int] | None:
    """Service (or counter) start of each item; None when one misses its window or hours."""
    starts = []
    node, ready = start_node, leave
    for index in visits:
        if index >= 0:
            next_node = data.visit_node(index)
            opens, latest = data.visits[index].tw_start, data.visits[index].tw_end
        else:
            bank = data.banks[bank_of(index)]
            next_node = data.bank_node(bank_of(index))
            opens, latest = bank.opens, bank.closes - bank.service_time
        start = max(ready + int(data.durations[node, next_node]), opens)
        if start > latest:
            return None
        starts.append(start)
        node, ready = next_node, start + _service(data, index)
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
    served = visits_of(visits)
    weight_left = sum(data.visits[v].weight for v in served)
    volume_left = sum(data.visits[v].volume for v in served)
    cash = 0
    ready = departure
    stops: list[Stop] = []
    deposits: list[Deposit] = []
    for position, index in enumerate(visits):
        arrival = ready + int(data.durations[nodes[position], nodes[position + 1]])
        metres = int(data.distances[nodes[position], nodes[position + 1]])
        ready = starts[position] + _service(data, index)
        if index < 0:
            bank_id = data.banks[bank_of(index)].id
            deposits.append(
                Deposit(bank_id, len(stops), arrival, starts[position], ready, cash, metres)
            )
            cash = 0
            continue
        visit = data.visits[index]
        cash += visit.cash
        stops.append(
            Stop(
                visit_id=visit.id,
                arrival=arrival,
                start=starts[position],
                departure=ready,
                weight_on_board=weight_left,
                volume_on_board=volume_left,
                cash_on_board=cash,
                distance_from_previous=metres,
            )
        )
        weight_left -= visit.weight
        volume_left -= visit.volume
    distance = sum(int(data.distances[a, b]) for a, b in zip(nodes, nodes[1:], strict=False))
    return Route(
        vehicle_id=data.vehicles[vehicle_index].id,
        departure=departure,
        return_time=back if visits else departure,
        stops=tuple(stops),
        distance=distance if visits else 0,
        deposits=tuple(deposits),
    )

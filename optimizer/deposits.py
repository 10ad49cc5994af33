"""Where deposits may pay, and deposits added to a plan by hand (no engine involved).

A route carries deposits as ~b among its visit indices (see data.deposit_at). Only OR-Tools
models them (optimizer.engine); the genetic search keeps every crew under its cap over the
whole day. So a genetic plan on a cash-heavy day leaves cash visits out that a deposit
would let a crew take: `with_deposits` adds the deposit that frees the most room for the
least detour to the crews whose cash blocks a left-out visit, and the repair inserts the
visits (optimizer.repair).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from optimizer.data import ProblemData, deposit_at, is_deposit, visits_of
from optimizer.result import Route
from optimizer.schedule import build_route

# Deposits that free about the same room are ranked by detour alone: room in steps of this
# share of the cap.
ROOM_STEP = 0.1


def depositors(data: ProblemData) -> list[int]:
    return [k for k, vehicle in enumerate(data.vehicles) if data.may_deposit(vehicle)]


def bank_copies(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    initial: Mapping[int, Sequence[int]] | None,
) -> int:
    """How many nodes per bank the engine needs: none where no deposit can pay, so a day
    without banks, or whose cash never binds, is modelled exactly as without deposits."""
    crews = depositors(data)
    if not crews or not cash_binds(data, allowed, initial, crews):
        return 0
    total = sum(data.visits[v].cash for v in allowed)
    smallest = max(1, min(data.vehicles[k].cash_cap for k in crews))
    copies = min(2 * len(crews), math.ceil(total / smallest) + 1)
    planned = [item for route in (initial or {}).values() for item in route if is_deposit(item)]
    return max([copies, *(planned.count(item) for item in set(planned))])


def cash_binds(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    initial: Mapping[int, Sequence[int]] | None,
    crews: Sequence[int],
) -> bool:
    """Whether some crew that may deposit could use one: in a plan, its cash keeps out a
    visit it may serve (or it deposits already); without one, the cash of the visits it may
    serve is above its cap."""
    may = set(crews)
    if initial:
        if any(is_deposit(item) for route in initial.values() for item in route):
            return True
        return bool(blocked_crews(data, initial, _left_out(allowed, initial), allowed, may))
    collectable = dict.fromkeys(crews, 0)
    for visit, vehicles in allowed.items():
        for vehicle in may.intersection(vehicles):
            collectable[vehicle] += data.visits[visit].cash
    return any(collectable[k] > data.vehicles[k].cash_cap for k in crews)


def cash_exceeds_caps(data: ProblemData, allowed: Mapping[int, Sequence[int]]) -> bool:
    """Whether the day's cash is more than all crews may carry at once, while some crew may
    deposit: then no plan without deposits serves it all."""
    if not depositors(data):
        return False
    carried = sum(vehicle.cash_cap for vehicle in data.vehicles)
    return sum(data.visits[v].cash for v in allowed) > carried


def _left_out(
    allowed: Mapping[int, Sequence[int]], routes: Mapping[int, Sequence[int]]
) -> list[int]:
    served = {item for route in routes.values() for item in route}
    return [v for v in allowed if v not in served]


def blocked_crews(
    data: ProblemData,
    routes: Mapping[int, Sequence[int]],
    left_out: Sequence[int],
    allowed: Mapping[int, Sequence[int]],
    may: set[int],
) -> list[int]:
    """Crews in `may` that some left-out visit they may serve would take over their cap."""
    found: set[int] = set()
    for visit in left_out:
        cash = data.visits[visit].cash
        if cash == 0:
            continue
        for vehicle in may.intersection(allowed[visit]) - found:
            carried = sum(data.visits[v].cash for v in visits_of(routes.get(vehicle, ())))
            if carried and carried + cash > data.vehicles[vehicle].cash_cap:
                found.add(vehicle)
    return sorted(found)


def with_deposit(data: ProblemData, vehicle: int, order: Sequence[int]) -> list[int] | None:
    """`order` with one deposit more: the one leaving the most room under the cap, among
    those within ROOM_STEP of it the shortest detour; None when no deposit fits."""
    cap = data.vehicles[vehicle].cash_cap
    step = max(1, int(cap * ROOM_STEP))
    current = build_route(data, vehicle, order)
    metres = current.distance if current is not None else 0
    best, best_key = None, None
    for position in range(1, len(order) + 1):
        # Next to another deposit a deposit banks nothing: it would only win on its zero
        # detour and leave no room.
        if is_deposit(order[position - 1]) or (
            position < len(order) and is_deposit(order[position])
        ):
            continue
        for bank in range(len(data.banks)):
            candidate = [*order[:position], deposit_at(bank), *order[position:]]
            route = build_route(data, vehicle, candidate)
            if route is None:
                continue
            key = (_most_carried(route) // step, route.distance - metres)
            if best_key is None or key < best_key:
                best, best_key = candidate, key
    return best


def _most_carried(route: Route) -> int:
    """The most cash on board between deposits."""
    return max((stop.cash_on_board for stop in route.stops), default=0)


def pruned(data: ProblemData, vehicle: int, order: list[int]) -> tuple[list[int], Route | None]:
    """`order` without the deposits it can do without, each dropped only if that is shorter."""
    route = build_route(data, vehicle, order)
    for position in reversed(range(len(order))):
        if not is_deposit(order[position]) or route is None:
            continue
        candidate = order[:position] + order[position + 1 :]
        shorter = build_route(data, vehicle, candidate)
        if shorter is not None and shorter.distance <= route.distance:
            order, route = candidate, shorter
    return order, route


def fit_deposits(data: ProblemData, vehicle: int, order: Sequence[int]) -> list[int] | None:
    """A dispatcher's edited order made drivable by its deposits alone: as given, without
    the deposits it no longer needs; else with fewer; else with one more (a cash visit moved
    onto a crew at its cap). None when no choice of deposits times it."""
    given = list(order)
    if build_route(data, vehicle, given) is not None:
        return pruned(data, vehicle, given)[0]
    # A deposit the edit made useless may now miss its bank's hours: drop one, or all.
    kept = [position for position, item in enumerate(given) if is_deposit(item)]
    fewer = [given[:p] + given[p + 1 :] for p in kept] + [visits_of(given)] * bool(kept)
    for candidate in fewer:
        if build_route(data, vehicle, candidate) is not None:
            return pruned(data, vehicle, candidate)[0]
    if not data.may_deposit(data.vehicles[vehicle]):
        return None
    for base in (given, visits_of(given)) if kept else (given,):
        more = with_deposit(data, vehicle, base)
        if more is not None:
            return pruned(data, vehicle, more)[0]
    return None

"""An independent checker: recomputes every rule of a day's plan from the routes alone.

It shares no code with the solver on purpose, so a mistake in the model cannot hide by being
repeated here. Only the problem data and the result shapes are common ground; all arithmetic
is integral, like the data, so the verdict never hinges on float rounding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from optimizer import check_text as text
from optimizer.data import Bank, ProblemData, Vehicle, Visit
from optimizer.explain import days
from optimizer.result import Deposit, Result, Route, Stop

RULES = (
    "unknown_visit",
    "duplicate_visit",
    "unknown_vehicle",
    "vehicle_reused",
    "missing_visit",
    "kind",
    "skill",
    "crew_size",
    "day",
    "pinned",
    "weight",
    "volume",
    "cash",
    "window",
    "shift",
    "schedule",
    "distance",
    "deposit_bank",
    "deposit_crew",
    "deposit_hours",
    "deposit_amount",
)


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # one of RULES
    vehicle_id: str | None
    visit_id: str | None
    message: str  # one sentence a dispatcher understands


@dataclass(frozen=True, slots=True)
class _Trip:
    """A route whose vehicle, visits and banks all exist, with its legs looked up once."""

    vehicle_index: int
    vehicle: Vehicle
    visits: tuple[Visit, ...]
    places: tuple[Visit | Bank, ...]  # the visits with the banks of any deposits, in order
    drive: tuple[int, ...]  # seconds per leg, depot -> places -> depot
    metres: tuple[int, ...]  # metres per leg, same legs


@dataclass(frozen=True, slots=True)
class _Schedule:
    departure: int
    starts: tuple[int, ...]  # of the visits
    return_time: int
    counters: tuple[int, ...] = ()  # when each deposit starts at the bank's counter


def check(data: ProblemData, result: Result) -> list[Violation]:
    """Every rule the plan breaks, including reported times, loads and distances that are off."""
    plans = [(route.vehicle_id, route.visit_ids) for route in result.routes]
    violations = _membership(data, plans, [item.visit_id for item in result.unassigned])
    for route in result.routes:
        placed = [(deposit.after, deposit.bank_id) for deposit in route.deposits]
        violations += _deposit_rules(data, route.vehicle_id, placed, len(route.stops))
        trip = _resolve(data, route.vehicle_id, route.visit_ids, placed)
        if trip is None:
            continue
        violations += _static_rules(data, trip)
        violations += _capacity_rules(trip)
        # The earliest schedule says whether the route can be driven at all; the reported one
        # may still break a window by waiting too long. One sentence per breach is enough.
        times = _time_rules(data, trip, _earliest(data, trip), planned=False)
        for key, violation in _time_rules(data, trip, _reported(route), planned=True).items():
            times.setdefault(key, violation)
        violations += times.values()
        violations += _schedule_rules(data, trip, route)
        violations += _reported_loads(trip, route)
        violations += _distance_rules(data, trip, route)
    return violations


def check_routes(
    data: ProblemData,
    routes: Mapping[str, Sequence[str]],
    deposits: Mapping[str, Sequence[tuple[int, str]]] | None = None,
) -> list[Violation]:
    """Routes given only as vehicle id -> ordered visit ids, with each route's deposits as
    (stops before it, bank id); recompute everything.

    Times follow the earliest-start schedule (leave at the window start, wait only for slots
    and banks). Visits on no route count as unassigned, since there is no list to compare
    against.
    """
    violations = _membership(data, list(routes.items()), None)
    for vehicle_id, visit_ids in routes.items():
        placed = (deposits or {}).get(vehicle_id, ())
        violations += _deposit_rules(data, vehicle_id, placed, len(visit_ids))
        trip = _resolve(data, vehicle_id, visit_ids, placed)
        if trip is None:
            continue
        violations += _static_rules(data, trip)
        violations += _capacity_rules(trip)
        violations += _time_rules(data, trip, _earliest(data, trip), planned=False).values()
    return violations


def _membership(
    data: ProblemData,
    plans: Sequence[tuple[str, Sequence[str]]],
    unassigned: Sequence[str] | None,
) -> list[Violation]:
    known_visits = {visit.id for visit in data.visits}
    known_vehicles = {vehicle.id for vehicle in data.vehicles}
    found: list[Violation] = []
    seen_vehicles: set[str] = set()
    placed: dict[str, str] = {}  # visit id -> where it was first seen, for the duplicate message
    for vehicle_id, visit_ids in plans:
        if vehicle_id not in known_vehicles:
            msg = f"A route is planned for {vehicle_id}, which is not in the fleet"
            found.append(Violation("unknown_vehicle", vehicle_id, None, msg))
        elif vehicle_id in seen_vehicles:
            msg = f"{vehicle_id} is given more than one route"
            found.append(Violation("vehicle_reused", vehicle_id, None, msg))
        seen_vehicles.add(vehicle_id)
        for visit_id in visit_ids:
            found += _place(visit_id, vehicle_id, f"on {vehicle_id}", known_visits, placed)
    for visit_id in unassigned or ():
        found += _place(visit_id, None, "in the unassigned list", known_visits, placed)
    if unassigned is not None:
        for visit in data.visits:
            if visit.id not in placed:
                msg = f"{visit.id} is neither on a route nor listed as unassigned"
                found.append(Violation("missing_visit", None, visit.id, msg))
    return found


def _place(
    visit_id: str, vehicle_id: str | None, where: str, known: set[str], placed: dict[str, str]
) -> list[Violation]:
    if visit_id not in known:
        msg = f"{visit_id} appears {where} but is not a visit of this day"
        return [Violation("unknown_visit", vehicle_id, visit_id, msg)]
    if visit_id in placed:
        msg = f"{visit_id} appears {placed[visit_id]} and again {where}"
        return [Violation("duplicate_visit", vehicle_id, visit_id, msg)]
    placed[visit_id] = where
    return []


def _resolve(
    data: ProblemData,
    vehicle_id: str,
    visit_ids: Sequence[str],
    deposits: Sequence[tuple[int, str]] = (),
) -> _Trip | None:
    """None when there is nothing to time or load: an empty route, or one naming unknowns
    (visits, banks, or a deposit after a stop the route does not have)."""
    vehicle_index = next((i for i, v in enumerate(data.vehicles) if v.id == vehicle_id), None)
    by_id = {visit.id: (data.visit_node(index), visit) for index, visit in enumerate(data.visits)}
    banks = {bank.id: (data.bank_node(index), bank) for index, bank in enumerate(data.banks)}
    if vehicle_index is None or not visit_ids or any(v not in by_id for v in visit_ids):
        return None
    if any(bank not in banks or not 0 <= after <= len(visit_ids) for after, bank in deposits):
        return None
    vehicle = data.vehicles[vehicle_index]
    places: list[tuple[int, Visit | Bank]] = []
    for position in range(len(visit_ids) + 1):
        places += [banks[bank] for after, bank in deposits if after == position]
        places += [by_id[visit_ids[position]]] if position < len(visit_ids) else []
    nodes = [
        data.depot_node(vehicle.start_depot),
        *(node for node, _ in places),
        data.depot_node(vehicle.end_depot),
    ]
    legs = list(pairwise(nodes))
    return _Trip(
        vehicle_index=vehicle_index,
        vehicle=vehicle,
        visits=tuple(by_id[visit_id][1] for visit_id in visit_ids),
        places=tuple(place for _, place in places),
        drive=tuple(int(data.durations[a, b]) for a, b in legs),
        metres=tuple(int(data.distances[a, b]) for a, b in legs),
    )


def _deposit_rules(
    data: ProblemData, vid: str, deposits: Sequence[tuple[int, str]], stops: int
) -> Iterator[Violation]:
    """Each deposit (stops before it, bank id) names a bank of the day, after a stop the
    route has, by a crew that may."""
    crew = next((v.crew_size for v in data.vehicles if v.id == vid), None)
    banks = {bank.id for bank in data.banks}
    for after, bank in deposits:
        if bank not in banks:
            msg = f"{vid} is planned to deposit at {bank}, which is no bank of this day"
            yield Violation("deposit_bank", vid, None, msg)
        elif not 0 <= after <= stops:
            msg = f"{vid} is planned to deposit after stop {after} of {stops}"
            yield Violation("deposit_bank", vid, None, msg)
        if crew is not None and crew < data.deposit_min_crew:
            msg = (
                f"{vid} is planned to deposit at {bank} with a crew of {crew}, but a "
                f"deposit needs {data.deposit_min_crew}"
            )
            yield Violation("deposit_crew", vid, None, msg)


def _static_rules(data: ProblemData, trip: _Trip) -> Iterator[Violation]:
    vehicle = trip.vehicle
    for visit in trip.visits:
        if visit.kind not in vehicle.visit_kinds:
            does = ", ".join(sorted(vehicle.visit_kinds)) or "no visits"
            msg = f"{visit.id} is a {visit.kind} visit but {vehicle.id} only does {does}"
            yield Violation("kind", vehicle.id, visit.id, msg)
        if not visit.skills <= vehicle.skills:
            lacking = ", ".join(sorted(visit.skills - vehicle.skills))
            msg = f"{visit.id} needs {lacking}, which {vehicle.id} lacks"
            yield Violation("skill", vehicle.id, visit.id, msg)
        if vehicle.crew_size < visit.min_crew:
            msg = (
                f"{visit.id} needs a crew of {visit.min_crew} "
                f"but {vehicle.id} has {vehicle.crew_size}"
            )
            yield Violation("crew_size", vehicle.id, visit.id, msg)
        if not visit.first_day <= vehicle.day <= visit.last_day:
            may = days(visit.first_day, visit.last_day)
            msg = f"{visit.id} may be made on {may}, but {vehicle.id} works day {vehicle.day}"
            yield Violation("day", vehicle.id, visit.id, msg)
        pin = visit.pinned_vehicle
        if pin is not None and pin != trip.vehicle_index:
            owner = data.vehicles[pin].id if 0 <= pin < len(data.vehicles) else f"vehicle #{pin}"
            msg = f"{visit.id} is pinned to {owner} but planned on {vehicle.id}"
            yield Violation("pinned", vehicle.id, visit.id, msg)


def _capacity_rules(trip: _Trip) -> Iterator[Violation]:
    vehicle = trip.vehicle
    # Everything is loaded at the depot, so the first leg carries the whole route's goods.
    weight = sum(visit.weight for visit in trip.visits)
    if weight > vehicle.weight_capacity:
        msg = (
            f"{vehicle.id} would leave the depot with {text.kg(weight)}, "
            f"over its capacity of {text.kg(vehicle.weight_capacity)}"
        )
        yield Violation("weight", vehicle.id, None, msg)
    volume = sum(visit.volume for visit in trip.visits)
    if volume > vehicle.volume_capacity:
        msg = (
            f"{vehicle.id} would leave the depot with {text.m3(volume)}, "
            f"over its capacity of {text.m3(vehicle.volume_capacity)}"
        )
        yield Violation("volume", vehicle.id, None, msg)
    cash = 0
    for visit in trip.places:
        if isinstance(visit, Bank):
            cash = 0  # handed over at the bank
            continue
        cash += visit.cash
        # Cash only grows between deposits: the first stop over the cap is the one to act on.
        if cash > vehicle.cash_cap:
            msg = (
                f"{vehicle.id} would carry {text.cny(cash)} in cash after {visit.id}, "
                f"over its cap of {text.cny(vehicle.cash_cap)}"
            )
            yield Violation("cash", vehicle.id, visit.id, msg)
            return


def _earliest(data: ProblemData, trip: _Trip) -> _Schedule:
    """Leave at the window start and never wait longer than a slot or a bank demands."""
    departure = clock = data.vehicle_window(trip.vehicle)[0]
    starts, counters = [], []
    for place, drive in zip(trip.places, trip.drive[:-1], strict=True):
        if isinstance(place, Bank):
            counters.append(max(clock + drive, place.opens))
            clock = counters[-1] + place.service_time
        else:
            starts.append(max(clock + drive, place.tw_start))
            clock = starts[-1] + place.service_time
    return _Schedule(departure, tuple(starts), clock + trip.drive[-1], tuple(counters))


def _reported(route: Route) -> _Schedule:
    starts = tuple(s.start for s in route.stops)
    counters = tuple(d.start for d in _in_order(route.deposits))
    return _Schedule(route.departure, starts, route.return_time, counters)


def _time_rules(
    data: ProblemData, trip: _Trip, schedule: _Schedule, *, planned: bool
) -> dict[tuple[str, int], Violation]:
    """Breaches keyed by what and where, so the earliest and reported schedules can be merged."""
    vehicle = trip.vehicle
    opens, closes = data.vehicle_window(vehicle)
    who = f"{vehicle.id} is planned to" if planned else f"{vehicle.id} can at the earliest"
    found: dict[tuple[str, int], Violation] = {}
    if schedule.departure < opens:
        leaving = f"{who} leave {data.depots[vehicle.start_depot].id}"
        msg = f"{leaving} at {text.clock(schedule.departure)}, before {text.opening(data, vehicle)}"
        found["leave", -1] = Violation("shift", vehicle.id, None, msg)
    for position, (visit, start) in enumerate(zip(trip.visits, schedule.starts, strict=True)):
        starting = f"{who} start {visit.id} at {text.clock(start)}"
        if start > visit.tw_end:
            msg = f"{starting}, after its slot ends at {text.clock(visit.tw_end)}"
            found["late", position] = Violation("window", vehicle.id, visit.id, msg)
        elif start < visit.tw_start:
            msg = f"{starting}, before its slot opens at {text.clock(visit.tw_start)}"
            found["early", position] = Violation("window", vehicle.id, visit.id, msg)
    banks = [place for place in trip.places if isinstance(place, Bank)]
    for position, (bank, start) in enumerate(zip(banks, schedule.counters, strict=True)):
        counter = f"{who} deposit at {bank.id} from {text.clock(start)}"
        if start < bank.opens or start + bank.service_time > bank.closes:
            hours = f"{text.clock(bank.opens)}-{text.clock(bank.closes)}"
            msg = f"{counter} to {text.clock(start + bank.service_time)}, outside its hours {hours}"
            found["bank", position] = Violation("deposit_hours", vehicle.id, None, msg)
    if schedule.return_time > closes:
        returning = f"{who} get back to {data.depots[vehicle.end_depot].id}"
        closing = text.closing(data, vehicle)
        msg = f"{returning} at {text.clock(schedule.return_time)}, after {closing}"
        found["return", -1] = Violation("shift", vehicle.id, None, msg)
    return found


def _in_order(deposits: Sequence[Deposit]) -> list[Deposit]:
    return sorted(deposits, key=lambda deposit: deposit.after)


def _paired(trip: _Trip, route: Route) -> list[tuple[Visit | Bank, Stop | Deposit]]:
    """Each place of the trip with what the route reports of it, in route order."""
    stops, deposits = iter(route.stops), iter(_in_order(route.deposits))
    return [
        (place, next(deposits) if isinstance(place, Bank) else next(stops)) for place in trip.places
    ]


def _schedule_rules(data: ProblemData, trip: _Trip, route: Route) -> Iterator[Violation]:
    """Reported times must follow from each other and from the travel matrix."""
    vid = trip.vehicle.id
    clock, place = route.departure, data.depots[trip.vehicle.start_depot].id
    for (visit, stop), drive in zip(_paired(trip, route), trip.drive[:-1], strict=True):
        if stop.arrival < clock + drive:
            msg = (
                f"{vid} is planned to reach {visit.id} at {text.clock(stop.arrival)}, but "
                f"leaving {place} at {text.clock(clock)} with a {text.span(drive)} drive it "
                f"cannot be there before {text.clock(clock + drive)}"
            )
            yield Violation("schedule", vid, visit.id, msg)
        if stop.start < stop.arrival:
            msg = (
                f"{vid} is planned to start {visit.id} at {text.clock(stop.start)}, "
                f"before arriving there at {text.clock(stop.arrival)}"
            )
            yield Violation("schedule", vid, visit.id, msg)
        if stop.departure != stop.start + visit.service_time:
            msg = (
                f"{vid} is planned to leave {visit.id} at {text.clock(stop.departure)}, but "
                f"{text.span(visit.service_time)} of service from {text.clock(stop.start)} ends at "
                f"{text.clock(stop.start + visit.service_time)}"
            )
            yield Violation("schedule", vid, visit.id, msg)
        clock, place = stop.departure, visit.id
    back = clock + trip.drive[-1]
    if route.return_time < back:
        msg = (
            f"{vid} is planned to get back at {text.clock(route.return_time)}, but leaving "
            f"{place} at {text.clock(clock)} it cannot be back before {text.clock(back)}"
        )
        yield Violation("schedule", vid, None, msg)


def _reported_loads(trip: _Trip, route: Route) -> Iterator[Violation]:
    vid = trip.vehicle.id
    weight = sum(visit.weight for visit in trip.visits)
    volume = sum(visit.volume for visit in trip.visits)
    cash = 0
    for visit, stop in _paired(trip, route):
        if isinstance(stop, Deposit):
            if stop.amount != cash:
                msg = (
                    f"{vid} is planned to deposit {text.cny(stop.amount)} at {visit.id}, "
                    f"but it arrives with {text.cny(cash)}"
                )
                yield Violation("deposit_amount", vid, None, msg)
            cash = 0
            continue
        assert isinstance(visit, Visit)
        cash += visit.cash
        arriving = f"{vid} is planned to arrive at {visit.id} with"
        if stop.weight_on_board != weight:
            msg = f"{text.kg(stop.weight_on_board)} on board, but the goods still to deliver weigh"
            yield Violation("weight", vid, visit.id, f"{arriving} {msg} {text.kg(weight)}")
        if stop.volume_on_board != volume:
            msg = f"{text.m3(stop.volume_on_board)} on board, but the goods still to deliver take"
            yield Violation("volume", vid, visit.id, f"{arriving} {msg} {text.m3(volume)}")
        if stop.cash_on_board != cash:
            msg = (
                f"{vid} is planned to hold {text.cny(stop.cash_on_board)} after {visit.id}, "
                f"but the cash collected since the last deposit is {text.cny(cash)}"
            )
            yield Violation("cash", vid, visit.id, msg)
        weight -= visit.weight
        volume -= visit.volume


def _distance_rules(data: ProblemData, trip: _Trip, route: Route) -> Iterator[Violation]:
    vid = trip.vehicle.id
    place = data.depots[trip.vehicle.start_depot].id
    for (spot, stop), metres in zip(_paired(trip, route), trip.metres[:-1], strict=True):
        if stop.distance_from_previous != metres:
            msg = (
                f"{vid} is planned to drive {stop.distance_from_previous:,} m from {place} "
                f"to {spot.id}, but that leg is {metres:,} m"
            )
            yield Violation("distance", vid, spot.id if isinstance(spot, Visit) else None, msg)
        place = spot.id
    total = sum(trip.metres)
    if route.distance != total:
        msg = f"{vid}'s route is reported as {route.distance:,} m, but its legs add up to"
        yield Violation("distance", vid, None, f"{msg} {total:,} m")

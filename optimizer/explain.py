"""Why a visit cannot be planned, in words a dispatcher understands.

Visits that no crew could ever serve are found before solving, so the engine never spends
time on them and each gets the precise reason (skill, weight, cash...). Visits the engine
leaves out for lack of room get a diagnosis of which resource ran out on the crews that
could have taken them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from optimizer.data import ProblemData, Vehicle, Visit
from optimizer.result import ReasonCode, Route, Unassigned


@dataclass(frozen=True, slots=True)
class Eligibility:
    allowed: dict[int, tuple[int, ...]]  # visit index -> vehicles that could serve it alone
    rejected: tuple[tuple[int, Unassigned], ...]


Why = Callable[[ProblemData, list[Vehicle], Visit], str]


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def kg(grams: int) -> str:
    return f"{grams / 1000:,.0f} kg"


def m3(cubic_cm: int) -> str:
    return f"{cubic_cm / 1_000_000:,.2f} m³"


def cny(fen: int) -> str:
    return f"{fen / 100:,.0f} CNY"


def days(first: int, last: int) -> str:
    """Day offsets from the plan's date, as in Vehicle.day."""
    return f"day {first}" if first == last else f"days {first}..{last}"


def eligibility(data: ProblemData) -> Eligibility:
    """Which crews could serve each visit alone, rule by rule over the whole day at once
    (a rule a visit at a time took 2 s on a 5,000-visit day of 432 crews, measured); the
    first rule that leaves a visit no crew is its reason."""
    pool = np.ones((len(data.visits), len(data.vehicles)), dtype=bool)
    refused: dict[int, tuple[ReasonCode, str]] = {}
    for rule, keeps, why in _RULES:
        narrowed = pool & keeps(data)
        emptied = ~narrowed.any(axis=1)
        for index in np.flatnonzero(emptied).tolist():
            if index not in refused:
                before = [data.vehicles[i] for i in np.flatnonzero(pool[index])]
                refused[index] = (rule, why(data, before, data.visits[index]))
        pool = narrowed
    allowed = {
        index: tuple(np.flatnonzero(row).tolist())
        for index, row in enumerate(pool)
        if index not in refused
    }
    rejected = tuple(
        (index, Unassigned(data.visits[index].id, *refused[index])) for index in sorted(refused)
    )
    return Eligibility(allowed=allowed, rejected=rejected)


def _of_visits(data: ProblemData, read: Callable[[Visit], int]) -> NDArray[np.int64]:
    """A visit attribute as a column, to compare with every crew at once."""
    return np.array([read(visit) for visit in data.visits], dtype=np.int64).reshape(-1, 1)


def _of_crews(data: ProblemData, read: Callable[[Vehicle], int]) -> NDArray[np.int64]:
    """A crew attribute as a row, to compare with every visit at once."""
    return np.array([read(vehicle) for vehicle in data.vehicles], dtype=np.int64).reshape(1, -1)


def _by_set(data: ProblemData, fits: Callable[[Visit, Vehicle], bool]) -> NDArray[np.bool_]:
    """A set rule (kind, skills), decided once per distinct visit requirement: a day has
    few of them."""
    decided: dict[object, list[bool]] = {}
    rows = []
    for visit in data.visits:
        key = (visit.kind, visit.skills)
        if key not in decided:
            decided[key] = [fits(visit, vehicle) for vehicle in data.vehicles]
        rows.append(decided[key])
    return np.array(rows, dtype=bool).reshape(len(data.visits), len(data.vehicles))


def _reachable(data: ProblemData) -> NDArray[np.bool_]:
    """Whether a crew can reach the visit within its window and be back by the shift's end."""
    leave = _of_crews(data, lambda c: data.vehicle_window(c)[0])
    back_by = _of_crews(data, lambda c: data.vehicle_window(c)[1])
    starts = _of_crews(data, lambda c: data.depot_node(c.start_depot))
    ends = _of_crews(data, lambda c: data.depot_node(c.end_depot))
    nodes = np.arange(len(data.visits)).reshape(-1, 1) + len(data.depots)
    arrive = np.maximum(
        leave + data.durations[starts, nodes], _of_visits(data, lambda v: v.tw_start)
    )
    service = _of_visits(data, lambda v: v.service_time)
    home = arrive + service + data.durations[nodes, ends]
    return (arrive <= _of_visits(data, lambda v: v.tw_end)) & (home <= back_by)


def _on_its_days(data: ProblemData) -> NDArray[np.bool_]:
    working = _of_crews(data, lambda c: c.day)
    return (_of_visits(data, lambda v: v.first_day) <= working) & (
        working <= _of_visits(data, lambda v: v.last_day)
    )


def _pinned(data: ProblemData) -> NDArray[np.bool_]:
    pins = _of_visits(data, lambda v: -1 if v.pinned_vehicle is None else v.pinned_vehicle)
    return (pins < 0) | (pins == np.arange(len(data.vehicles)).reshape(1, -1))


def _why_kind(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    return f"no crew does {visit.kind.value} visits"


def _why_skill(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    known = set().union(*(v.skills for v in pool)) if pool else set()
    missing = sorted(visit.skills - known) or sorted(visit.skills)
    return f"no crew has the skill {', '.join(missing)}"


def _why_crew(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    largest = max(v.crew_size for v in pool)
    return f"needs {visit.min_crew} people; the largest suitable crew has {largest}"


def _why_day(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    working = sorted({v.day for v in pool})
    on = f"day {working[0]}" if len(working) == 1 else f"days {', '.join(map(str, working))}"
    return (
        f"may be made on {days(visit.first_day, visit.last_day)} only, "
        f"but the crews able to do it work on {on}"
    )


def _why_pin(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    pinned = data.vehicles[visit.pinned_vehicle or 0]
    return f"pinned to {pinned.id}, which cannot do this visit (kind, skill, crew size or day)"


def _why_weight(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    largest = max(v.weight_capacity for v in pool)
    return f"weighs {kg(visit.weight)}, more than any suitable truck carries ({kg(largest)})"


def _why_volume(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    largest = max(v.volume_capacity for v in pool)
    return f"takes {m3(visit.volume)}, more than any suitable truck holds ({m3(largest)})"


def _why_cash(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    largest = max(v.cash_cap for v in pool)
    return f"collects {cny(visit.cash)}, more than a truck may carry ({cny(largest)})"


def _why_window(data: ProblemData, pool: list[Vehicle], visit: Visit) -> str:
    return (
        f"its window {hhmm(visit.tw_start)}–{hhmm(visit.tw_end)} cannot be reached and "
        "the crew back at the depot within any suitable crew's shift"
    )


_RULES: tuple[tuple[ReasonCode, Callable[[ProblemData], NDArray[np.bool_]], Why], ...] = (
    (
        ReasonCode.WRONG_VISIT_KIND,
        lambda d: _by_set(d, lambda v, c: v.kind in c.visit_kinds),
        _why_kind,
    ),
    (ReasonCode.MISSING_SKILL, lambda d: _by_set(d, lambda v, c: v.skills <= c.skills), _why_skill),
    (
        ReasonCode.CREW_TOO_SMALL,
        lambda d: _of_crews(d, lambda c: c.crew_size) >= _of_visits(d, lambda v: v.min_crew),
        _why_crew,
    ),
    # After the crew rules: when a crew able to do the job exists on other days, the
    # dispatcher's fix is a crew on the visit's days, not hiring or training one.
    (ReasonCode.NO_CREW_THAT_DAY, _on_its_days, _why_day),
    (ReasonCode.PINNED_CREW_CANNOT, _pinned, _why_pin),
    (
        ReasonCode.TOO_HEAVY,
        lambda d: _of_visits(d, lambda v: v.weight) <= _of_crews(d, lambda c: c.weight_capacity),
        _why_weight,
    ),
    (
        ReasonCode.TOO_BULKY,
        lambda d: _of_visits(d, lambda v: v.volume) <= _of_crews(d, lambda c: c.volume_capacity),
        _why_volume,
    ),
    (
        ReasonCode.TOO_MUCH_CASH,
        lambda d: _of_visits(d, lambda v: v.cash) <= _of_crews(d, lambda c: c.cash_cap),
        _why_cash,
    ),
    (ReasonCode.WINDOW_UNREACHABLE, _reachable, _why_window),
)


def no_room(
    data: ProblemData, visit_index: int, allowed: Sequence[int], routes: dict[int, Route]
) -> Unassigned:
    """Name the resources that were exhausted on the crews that could have served the visit."""
    visit = data.visits[visit_index]
    full: Counter[str] = Counter()
    for vehicle_index in allowed:
        vehicle = data.vehicles[vehicle_index]
        route = routes.get(vehicle_index)
        on_route = [data.visits[data.visit_index(s.visit_id)] for s in route.stops] if route else []
        if sum(v.weight for v in on_route) + visit.weight > vehicle.weight_capacity:
            full["weight"] += 1
        elif sum(v.volume for v in on_route) + visit.volume > vehicle.volume_capacity:
            full["volume"] += 1
        elif (
            not data.may_deposit(vehicle)
            and sum(v.cash for v in on_route) + visit.cash > vehicle.cash_cap
        ):
            full["cash cap"] += 1
        else:
            full["working time"] += 1
    if len(allowed) == 1:
        crews = f"the only crew that could take it, {data.vehicles[allowed[0]].id}, is full on"
    else:
        crews = f"the {len(allowed)} crews that could take it are full on"
    detail = ", ".join(f"{resource} ({count})" for resource, count in full.most_common())
    when = "that day" if visit.first_day == visit.last_day else "on any of its days"
    return Unassigned(
        visit.id, ReasonCode.NO_ROOM, f"no room left in the fleet {when}: {crews} {detail}"
    )

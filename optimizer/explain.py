"""Why a visit cannot be planned, in words a dispatcher understands.

Visits that no crew could ever serve are found before solving, so the engine never spends
time on them and each gets the precise reason (skill, weight, cash...). Visits the engine
leaves out for lack of room get a diagnosis of which resource ran out on the crews that
could have taken them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.data import ProblemData, Vehicle, Visit
from optimizer.result import ReasonCode, Route, Unassigned


@dataclass(frozen=True, slots=True)
class Eligibility:
    allowed: dict[int, tuple[int, ...]]  # visit index -> vehicles that could serve it alone
    rejected: tuple[tuple[int, Unassigned], ...]


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
    allowed: dict[int, tuple[int, ...]] = {}
    rejected = []
    for index, visit in enumerate(data.visits):
        vehicles, refusal = _candidates(data, visit)
        if refusal is None:
            allowed[index] = vehicles
        else:
            rejected.append((index, Unassigned(visit.id, refusal[0], refusal[1])))
    return Eligibility(allowed=allowed, rejected=tuple(rejected))


def _candidates(
    data: ProblemData, visit: Visit
) -> tuple[tuple[int, ...], tuple[ReasonCode, str] | None]:
    """Narrow the fleet rule by rule; the first rule that empties it is the reason."""
    pool = list(range(len(data.vehicles)))
    node = data.visit_node(data.visit_index(visit.id))
    for rule, keeps, why in _RULES:
        narrowed = [i for i in pool if keeps(data, data.vehicles[i], visit, node)]
        if not narrowed:
            return (), (rule, why(data, [data.vehicles[i] for i in pool], visit))
        pool = narrowed
    return tuple(pool), None


def _reachable(data: ProblemData, vehicle: Vehicle, visit: Visit, node: int) -> bool:
    leave, back_by = data.vehicle_window(vehicle)
    start_node, end_node = data.depot_node(vehicle.start_depot), data.depot_node(vehicle.end_depot)
    start = max(leave + int(data.durations[start_node, node]), visit.tw_start)
    return (
        start <= visit.tw_end
        and start + visit.service_time + int(data.durations[node, end_node]) <= back_by
    )


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


_RULES = (
    (ReasonCode.WRONG_VISIT_KIND, lambda d, c, v, n: v.kind in c.visit_kinds, _why_kind),
    (ReasonCode.MISSING_SKILL, lambda d, c, v, n: v.skills <= c.skills, _why_skill),
    (ReasonCode.CREW_TOO_SMALL, lambda d, c, v, n: c.crew_size >= v.min_crew, _why_crew),
    # After the crew rules: when a crew able to do the job exists on other days, the
    # dispatcher's fix is a crew on the visit's days, not hiring or training one.
    (
        ReasonCode.NO_CREW_THAT_DAY,
        lambda d, c, v, n: v.first_day <= c.day <= v.last_day,
        _why_day,
    ),
    (
        ReasonCode.PINNED_CREW_CANNOT,
        lambda d, c, v, n: v.pinned_vehicle is None or d.vehicles[v.pinned_vehicle] is c,
        _why_pin,
    ),
    (ReasonCode.TOO_HEAVY, lambda d, c, v, n: v.weight <= c.weight_capacity, _why_weight),
    (ReasonCode.TOO_BULKY, lambda d, c, v, n: v.volume <= c.volume_capacity, _why_volume),
    (ReasonCode.TOO_MUCH_CASH, lambda d, c, v, n: v.cash <= c.cash_cap, _why_cash),
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
        elif sum(v.cash for v in on_route) + visit.cash > vehicle.cash_cap:
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

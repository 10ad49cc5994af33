"""Several-day horizons: the optimizer picks each visit's day among the days it may be made on.

A crew working several days is one vehicle per day (Vehicle.day, an offset from the plan's
date); a visit may be made on the day offsets first..last. Only compatibility couples them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from line_day import H, LineDay

from optimizer import ReasonCode, Result, SolveParams, solve
from optimizer.check import check, check_routes
from optimizer.dayfile import load_day
from optimizer.explain import eligibility
from optimizer.settings import DispatchSettings

# Each engine alone, so neither can hide the other's mistake; tiny days finish in well under
# a second either way.
ENGINES = [
    pytest.param(SolveParams(time_limit_s=5, engines=("hgs",)), id="hgs"),
    pytest.param(
        SolveParams(time_limit_s=5, engines=("ortools",), metaheuristic="greedy_descent"),
        id="ortools",
    ),
]
FAST = SolveParams(time_limit_s=5, metaheuristic="greedy_descent")
TECH: dict[str, Any] = dict(kind="technician", weight_kg=100, volume_m3=1, crew_size=1)


def planned(day: LineDay, params: SolveParams) -> Result:
    data = day.data()
    result = solve(data, params, seed=1)
    assert result.ok, result.reasons
    assert check(data, result) == []
    return result


def vehicle_of(result: Result, visit_id: str) -> str | None:
    return next((r.vehicle_id for r in result.routes if visit_id in r.visit_ids), None)


@pytest.mark.parametrize(
    ("build", "prefix"),
    [
        # a vehicle cannot work before the plan's date
        (lambda d: d.truck("A", day=-1), "vehicle 'A': day:"),
        # a vehicle's day is a whole number of days
        (lambda d: d.truck("A", day=1.5), "vehicle 'A': day:"),
        # the range ends before it starts
        (lambda d: d.visit("V", at_km=1, days=(2, 1)), "visit 'V': days:"),
        # a visit cannot be made before the plan's date
        (lambda d: d.visit("V", at_km=1, days=(-1, 0)), "visit 'V': days:"),
        # a single number is not a range
        (lambda d: d.visit("V", at_km=1, days=(1,)), "visit 'V': days:"),
    ],
)
def test_model_rejects_bad_days(day: LineDay, build: Any, prefix: str) -> None:
    """Bad day offsets fail at once, naming the object and the field."""
    day.depot()
    with pytest.raises(ValueError, match=f"^{re.escape(prefix)}"):
        build(day)


@pytest.mark.parametrize("params", ENGINES)
def test_visit_stays_within_its_days(day: LineDay, params: SolveParams) -> None:
    """Each visit goes to the far crew of its own day, never to the next-door crew of another."""
    near, far = day.depot(0, "NEAR"), day.depot(40, "FAR")
    day.truck("TODAY", depot=near, day=0)
    day.truck("TOMORROW", depot=far, day=1)
    day.visit("LATER", at_km=1, days=(1, 2))  # next to TODAY's depot
    day.visit("NOW", at_km=39, days=(0, 0))  # next to TOMORROW's depot
    result = planned(day, params)
    assert vehicle_of(result, "LATER") == "TOMORROW"
    assert vehicle_of(result, "NOW") == "TODAY"


@pytest.mark.parametrize("params", ENGINES)
@pytest.mark.parametrize("near_day", [0, 1])  # the near crew works today, then tomorrow
def test_optimizer_picks_the_cheaper_day(day: LineDay, params: SolveParams, near_day: int) -> None:
    """An install that may be made today or tomorrow goes to the day whose crew is nearer."""
    near, far = day.depot(0, "NEAR"), day.depot(30, "FAR")
    day.truck("T@0", depot=near if near_day == 0 else far, day=0, **TECH)
    day.truck("T@1", depot=near if near_day == 1 else far, day=1, **TECH)
    day.visit("INSTALL", at_km=1, kind="install", days=(0, 1))
    result = planned(day, params)
    assert vehicle_of(result, "INSTALL") == f"T@{near_day}"
    assert result.kpis.distance_m == 2_000


def test_no_crew_on_the_visits_days(day: LineDay) -> None:
    """A visit for days 2..3 with crews on days 0 and 1 only is unassigned, naming the days."""
    day.depot()
    day.truck("A", day=0)
    day.truck("B", day=1)
    day.visit("OK", at_km=1, days=(0, 1))
    day.visit("LATE", at_km=1, days=(2, 3))
    result = planned(day, FAST)
    assert vehicle_of(result, "OK") in ("A", "B")
    assert [(u.visit_id, u.code) for u in result.unassigned] == [
        ("LATE", ReasonCode.NO_CREW_THAT_DAY)
    ]
    assert result.unassigned[0].reason == (
        "may be made on days 2..3 only, but the crews able to do it work on days 0, 1"
    )


def test_checker_flags_a_visit_outside_its_days(day: LineDay) -> None:
    """A hand-made route putting a day-1..2 visit on a day-0 vehicle breaks the day rule."""
    day.depot()
    day.truck("TODAY", day=0)
    day.truck("TOMORROW", day=1)
    day.visit("LATER", at_km=1, days=(1, 2))
    data = day.data()
    assert check_routes(data, {"TOMORROW": ["LATER"]}) == []
    violations = check_routes(data, {"TODAY": ["LATER"]})
    assert [(v.rule, v.vehicle_id, v.visit_id) for v in violations] == [("day", "TODAY", "LATER")]
    assert violations[0].message == "LATER may be made on days 1..2, but TODAY works day 0"


@pytest.mark.parametrize("params", ENGINES)
def test_skill_binds_on_every_day(day: LineDay, params: SolveParams) -> None:
    """A gas job goes to the far gas crew of day 2, not the plain crew next door on day 1."""
    near, far = day.depot(0, "NEAR"), day.depot(40, "FAR")
    day.truck("PLAIN@1", depot=near, day=1)
    day.truck("GAS@2", depot=far, day=2, skills=["gas"])
    day.visit("HOB", at_km=1, skills=["gas"], days=(1, 2))
    assert vehicle_of(planned(day, params), "HOB") == "GAS@2"


@pytest.mark.parametrize(
    ("gas_day", "code", "words"),
    [
        # no gas crew on any day: the skill is what is missing
        (None, ReasonCode.MISSING_SKILL, "gas"),
        # a gas crew exists, but today, not on the job's day
        (0, ReasonCode.NO_CREW_THAT_DAY, "day 1 only"),
    ],
)
def test_plain_crew_alone_on_the_day_does_not_get_a_gas_job(
    day: LineDay, gas_day: int | None, code: ReasonCode, words: str
) -> None:
    """The only crew of day 1 lacks gas, so the day-1 gas job stays unassigned, and says why."""
    day.depot()
    day.truck("PLAIN@1", day=1)
    if gas_day is not None:
        day.truck("GAS", day=gas_day, skills=["gas"])
    day.visit("OK", at_km=1, days=(1, 1))
    day.visit("HOB", at_km=1, skills=["gas"], days=(1, 1))
    result = planned(day, FAST)
    assert vehicle_of(result, "OK") == "PLAIN@1"
    assert [(u.visit_id, u.code) for u in result.unassigned] == [("HOB", code)]
    assert words in result.unassigned[0].reason


def test_pinned_to_a_crew_of_another_day(day: LineDay) -> None:
    """A pin to a crew working outside the visit's days is explained, not silently moved."""
    day.depot()
    day.truck("TODAY", day=0)
    day.truck("TOMORROW", day=1)
    day.visit("V", at_km=1, days=(1, 1), pinned_to="TODAY")
    result = planned(day, FAST)
    assert result.unassigned[0].code is ReasonCode.PINNED_CREW_CANNOT


def test_full_days_say_no_room_on_any_of_its_days(day: LineDay) -> None:
    """Three 5-hour morning jobs, one crew on each of two days: one job is left without room."""
    day.depot()
    day.truck("A", day=0)
    day.truck("B", day=1)
    for n in range(3):
        day.visit(f"V{n}", at_km=1, service_s=5 * H, days=(0, 1))
    result = planned(day, FAST)
    assert sorted(len(r.stops) for r in result.routes) == [1, 1]
    assert [u.code for u in result.unassigned] == [ReasonCode.NO_ROOM]
    assert "no room left in the fleet on any of its days" in result.unassigned[0].reason


def test_eligibility_is_vehicle_can_serve(day: LineDay) -> None:
    """Where capacity and time do not bind, the solver's allowed crews are vehicle_can_serve's."""
    day.depot()
    for crew_day in (0, 1, 2):
        day.truck(f"TRUCK@{crew_day}", day=crew_day)
        day.truck(f"GAS@{crew_day}", day=crew_day, skills=["gas"], **TECH)
    for first, last in ((0, 0), (0, 1), (1, 2), (2, 2), (3, 4)):
        day.visit(f"D{first}{last}", at_km=1, days=(first, last))
        day.visit(f"I{first}{last}", at_km=1, days=(first, last), kind="install", skills=["gas"])
    day.visit("PINNED", at_km=1, days=(0, 2), pinned_to="TRUCK@1")
    data = day.data()
    allowed = eligibility(data).allowed
    for index, visit in enumerate(data.visits):
        expected = [i for i, v in enumerate(data.vehicles) if data.vehicle_can_serve(v, visit)]
        assert list(allowed.get(index, ())) == expected, visit.id


def test_day_file_carries_days() -> None:
    """A day file's vehicle "day" and visit "days" reach the data; left out, they are 0."""
    vehicle = {"depot": "D", "shift": ["08:00", "18:00"], "weight_kg": 9, "volume_m3": 1}
    visit = {"date": "2026-12-03", "lat": 30.0, "lon": 104.01, "window": ["09:00", "12:00"]}
    content: dict[str, Any] = {
        "depots": [{"id": "D", "lat": 30.0, "lon": 104.0}],
        "vehicles": [{"id": "T", **vehicle}, {"id": "T+1", "day": 1, **vehicle}],
        "visits": [{"id": "a", **visit}, {"id": "b", "days": [1, 2], **visit}],
    }
    data = load_day(content, date(2026, 12, 3), DispatchSettings()).data
    assert [v.day for v in data.vehicles] == [0, 1]
    assert [(v.first_day, v.last_day) for v in data.visits] == [(0, 0), (1, 2)]
    content["visits"][1]["days"] = [2]  # a single number is not a range
    with pytest.raises(ValueError, match="^visit 'b': days:"):
        load_day(content, date(2026, 12, 3), DispatchSettings())

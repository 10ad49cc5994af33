"""The independent checker on days small enough to verify by hand.

One depot D and visits A, B, C. Every leg below is hand-written: ten metres per second of
driving, so distances are the durations times ten.

    seconds   D     A     B     C
    D         0   600   900  1200
    A       600     0   300   600
    B       900   300     0   300
    C      1200   600   300     0

T1 and T2 are trucks on an 08:00-18:00 shift carrying 100 kg, 1 m3 and 500 CNY. Every visit is
a delivery in an 08:00-12:00 slot: 10 minutes of service, 10 kg, 0.1 m3, 100 CNY cash.
So T1 on A, B leaves 08:00, serves A 08:10-08:20, B 08:25-08:35 and is back at 08:50,
having driven 6,000 + 3,000 + 9,000 = 18,000 m.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from optimizer.check import Violation, check, check_routes
from optimizer.data import ProblemData
from optimizer.matrix import TravelMatrix
from optimizer.model import Model
from optimizer.result import Kpis, ReasonCode, Result, Route, Status, Stop, Unassigned

DURATIONS = np.array(
    [
        [0, 600, 900, 1200],
        [600, 0, 300, 600],
        [900, 300, 0, 300],
        [1200, 600, 300, 0],
    ]
)
DISTANCES = DURATIONS * 10


def hm(hour: int, minute: int = 0) -> int:
    return hour * 3600 + minute * 60


def day(
    *,
    truck: dict[str, Any] | None = None,
    visits: dict[str, dict[str, Any]] | None = None,
    depot: dict[str, Any] | None = None,
) -> ProblemData:
    """The day above, with T1's, the depot's or single visits' fields overridden."""
    model = Model()
    model.add_skills(["assembly"])
    model.add_depot("D", lat=30.6, lon=104.0, **(depot or {}))
    fleet: dict[str, Any] = {
        "shift": (hm(8), hm(18)),
        "weight_kg": 100,
        "volume_m3": 1.0,
        "cash_cap_cny": 500,
    }
    model.add_vehicle("T1", depot=0, **{**fleet, **(truck or {})})
    model.add_vehicle("T2", depot=0, **fleet)
    for visit_id in "ABC":
        fields: dict[str, Any] = {
            "window": (hm(8), hm(12)),
            "service_s": 600,
            "weight_kg": 10,
            "volume_m3": 0.1,
            "cash_cny": 100,
        }
        fields.update((visits or {}).get(visit_id, {}))
        model.add_visit(visit_id, lat=30.6, lon=104.0, **fields)
    return model.data(matrix=TravelMatrix(distances=DISTANCES, durations=DURATIONS))


def planned() -> Result:
    """T1 on A then B with every number worked out by hand; C left unassigned."""
    stops = (
        Stop("A", hm(8, 10), hm(8, 10), hm(8, 20), 20_000, 200_000, 10_000, 6_000),
        Stop("B", hm(8, 25), hm(8, 25), hm(8, 35), 10_000, 100_000, 20_000, 3_000),
    )
    route = Route("T1", departure=hm(8), return_time=hm(8, 50), stops=stops, distance=18_000)
    return Result(
        status=Status.FEASIBLE,
        routes=(route,),
        unassigned=(Unassigned("C", ReasonCode.NO_ROOM, "No vehicle had room for C."),),
        kpis=Kpis(3, 2, 1, 1, 18_000, 3_000, 3_000 / 36_000),
        objective=0,
        seconds=0.0,
        seed=0,
    )


def tamper(result: Result, stop: int | None = None, **changes: Any) -> Result:
    """The result with one field of the first route, or of one of its stops, changed."""
    route = result.routes[0]
    if stop is None:
        route = replace(route, **changes)
    else:
        stops = list(route.stops)
        stops[stop] = replace(stops[stop], **changes)
        route = replace(route, stops=tuple(stops))
    return replace(result, routes=(route, *result.routes[1:]))


def found(violations: list[Violation]) -> set[tuple[str, str | None, str | None]]:
    return {(v.rule, v.vehicle_id, v.visit_id) for v in violations}


def test_correct_result_has_no_violations() -> None:
    """A hand-built plan that keeps every rule passes both entry points."""
    data = day()
    assert check(data, planned()) == []
    assert check_routes(data, {"T1": ["A", "B"], "T2": ["C"]}) == []


def test_waiting_for_a_slot_is_allowed() -> None:
    """Arriving before a slot opens means waiting, not a violation."""
    data = day(visits={"B": {"window": (hm(9), hm(12))}})
    assert check_routes(data, {"T1": ["A", "B"]}) == []


def test_stop_after_its_slot_is_flagged_with_clock_times() -> None:
    """B's slot ends 08:20 but T1 cannot start it before 08:25."""
    data = day(visits={"B": {"window": (hm(8), hm(8, 20))}})
    violations = check_routes(data, {"T1": ["A", "B"]})
    assert found(violations) == {("window", "T1", "B")}
    assert violations[0].message == (
        "T1 can at the earliest start B at 08:25, after its slot ends at 08:20"
    )


def test_late_stop_is_reported_once_by_check() -> None:
    """A late stop in a consistent reported plan yields one window violation, not two."""
    data = day(visits={"B": {"window": (hm(8), hm(8, 20))}})
    assert found(check(data, planned())) == {("window", "T1", "B")}


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        # A alone weighs 10 kg, within the 15 kg capacity.
        ({"T1": ["A"]}, set()),
        # A and B are both loaded at the depot: 20 kg.
        ({"T1": ["A", "B"]}, {("weight", "T1", None)}),
    ],
)
def test_over_weight(routes: dict[str, list[str]], expected: set[tuple[str, str, None]]) -> None:
    """The whole route's goods must fit the truck's weight capacity."""
    assert found(check_routes(day(truck={"weight_kg": 15}), routes)) == expected


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        # A alone takes 0.1 m3, within the 0.15 m3 capacity.
        ({"T1": ["A"]}, set()),
        # A and B together take 0.2 m3.
        ({"T1": ["A", "B"]}, {("volume", "T1", None)}),
    ],
)
def test_over_volume(routes: dict[str, list[str]], expected: set[tuple[str, str, None]]) -> None:
    """The whole route's goods must fit the truck's volume capacity."""
    assert found(check_routes(day(truck={"volume_m3": 0.15}), routes)) == expected


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        # 100 CNY after A stays under the 150 CNY cap.
        (["A"], set()),
        # 200 CNY after B: the second stop breaks the cap.
        (["A", "B"], {("cash", "T1", "B")}),
        # Still over after C, but only the first stop over the cap is reported.
        (["A", "B", "C"], {("cash", "T1", "B")}),
    ],
)
def test_cash_over_the_cap(route: list[str], expected: set[tuple[str, str, str]]) -> None:
    """Cash collected so far may never exceed the cap, even when weight and volume fit."""
    violations = check_routes(day(truck={"cash_cap_cny": 150}), {"T1": route})
    assert found(violations) == expected
    if expected:
        assert "¥200.00" in violations[0].message and "¥150.00" in violations[0].message


def test_missing_skill() -> None:
    """A visit needing assembly cannot go on a truck without it."""
    data = day(visits={"A": {"skills": ["assembly"]}})
    assert found(check_routes(data, {"T1": ["A"]})) == {("skill", "T1", "A")}


def test_wrong_visit_kind() -> None:
    """A delivery truck does not do install visits."""
    data = day(visits={"A": {"kind": "install"}})
    assert found(check_routes(data, {"T1": ["A"]})) == {("kind", "T1", "A")}


def test_crew_too_small() -> None:
    """A visit needing three people cannot go to a crew of two."""
    data = day(visits={"A": {"min_crew": 3}})
    assert found(check_routes(data, {"T1": ["A"]})) == {("crew_size", "T1", "A")}


@pytest.mark.parametrize(
    ("vehicle_id", "expected"),
    [
        # A is pinned to T2 and T2 takes it.
        ("T2", set()),
        # T1 is not the pinned vehicle.
        ("T1", {("pinned", "T1", "A")}),
    ],
)
def test_pinned_vehicle(vehicle_id: str, expected: set[tuple[str, str, str]]) -> None:
    """A pinned visit may only go on its own vehicle."""
    data = day(visits={"A": {"pinned_to": "T2"}})
    assert found(check_routes(data, {vehicle_id: ["A"]})) == expected


@pytest.mark.parametrize(
    ("truck", "depot", "phrase"),
    [
        # The shift ends at 08:45, five minutes before T1 can be back.
        ({"shift": (hm(8), hm(8, 45))}, {}, "its shift ends at 08:45"),
        # The depot closes at 08:45 although the shift runs to 18:00.
        ({}, {"closes": hm(8, 45)}, "depot D closes at 08:45"),
    ],
)
def test_returning_after_the_shift(
    truck: dict[str, Any], depot: dict[str, Any], phrase: str
) -> None:
    """T1 is back at 08:50 at the earliest, which is too late."""
    violations = check_routes(day(truck=truck, depot=depot), {"T1": ["A", "B"]})
    assert found(violations) == {("shift", "T1", None)}
    assert violations[0].message.endswith(f"back to D at 08:50, after {phrase}")


def test_duplicate_visit() -> None:
    """B on two routes is flagged where it appears the second time."""
    violations = check_routes(day(), {"T1": ["A", "B"], "T2": ["B"]})
    assert found(violations) == {("duplicate_visit", "T2", "B")}


def test_routed_and_unassigned_visit_is_a_duplicate() -> None:
    """A visit may not be both on a route and in the unassigned list."""
    result = replace(planned(), unassigned=(Unassigned("A", ReasonCode.NO_ROOM, "No room."),))
    assert found(check(day(), result)) == {
        ("duplicate_visit", None, "A"),
        ("missing_visit", None, "C"),
    }


def test_missing_visit() -> None:
    """C neither routed nor listed as unassigned is flagged."""
    result = replace(planned(), unassigned=())
    assert found(check(day(), result)) == {("missing_visit", None, "C")}


def test_unknown_ids() -> None:
    """Visits and vehicles not in the day are flagged, and their routes are not timed."""
    violations = check_routes(day(), {"T1": ["A", "Z"], "T9": ["B"]})
    assert found(violations) == {("unknown_visit", "T1", "Z"), ("unknown_vehicle", "T9", None)}


def test_vehicle_with_two_routes() -> None:
    """One vehicle cannot drive two routes."""
    result = planned()
    second = Route("T1", hm(9), hm(9, 50), (), 0)
    assert found(check(day(), replace(result, routes=(*result.routes, second)))) == {
        ("vehicle_reused", "T1", None)
    }


def test_inconsistent_reported_arrival() -> None:
    """B reported at 08:22 although A is left at 08:20 and the leg takes five minutes."""
    violations = check(day(), tamper(planned(), stop=1, arrival=hm(8, 22)))
    assert found(violations) == {("schedule", "T1", "B")}
    assert "cannot be there before 08:25" in violations[0].message


def test_wrong_reported_cash_on_board() -> None:
    """After B the truck holds 200 CNY, not the reported 150 CNY."""
    violations = check(day(), tamper(planned(), stop=1, cash_on_board=15_000))
    assert found(violations) == {("cash", "T1", "B")}
    assert "¥150.00" in violations[0].message and "¥200.00" in violations[0].message


@pytest.mark.parametrize(
    ("stop", "changes", "expected"),
    [
        # Service at A reported to start 08:05, before the truck arrives at 08:10.
        (0, {"start": hm(8, 5), "departure": hm(8, 15)}, {("schedule", "T1", "A")}),
        # Ten minutes of service from 08:10 cannot end at 08:15.
        (0, {"departure": hm(8, 15)}, {("schedule", "T1", "A")}),
        # Leaving B at 08:35, the truck cannot be back at the depot by 08:45.
        (None, {"return_time": hm(8, 45)}, {("schedule", "T1", None)}),
        # Leaving at 07:50 is before the 08:00 shift start.
        (None, {"departure": hm(7, 50)}, {("shift", "T1", None)}),
        # Coming back at 18:30 is after the 18:00 shift end, though reachable in time.
        (None, {"return_time": hm(18, 30)}, {("shift", "T1", None)}),
        # Waiting until 12:30 misses B's slot, which the route could make; the 08:50 return is
        # then impossible too.
        (
            1,
            {"start": hm(12, 30), "departure": hm(12, 40)},
            {("window", "T1", "B"), ("schedule", "T1", None)},
        ),
        # 10 kg on board arriving at A, but A and B together weigh 20 kg.
        (0, {"weight_on_board": 10_000}, {("weight", "T1", "A")}),
        # 0.2 m3 on board arriving at B, but only B's 0.1 m3 is left.
        (1, {"volume_on_board": 200_000}, {("volume", "T1", "B")}),
        # A to B is 3,000 m, not 2,500 m.
        (1, {"distance_from_previous": 2_500}, {("distance", "T1", "B")}),
        # The legs add up to 18,000 m, not 17,000 m.
        (None, {"distance": 17_000}, {("distance", "T1", None)}),
    ],
)
def test_reported_fields_must_match(
    stop: int | None, changes: dict[str, int], expected: set[tuple[str, str, str | None]]
) -> None:
    """Each reported time, load and distance is recomputed and compared."""
    assert found(check(day(), tamper(planned(), stop, **changes))) == expected

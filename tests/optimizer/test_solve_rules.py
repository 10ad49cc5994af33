"""Each dispatch rule on a day where it binds: the solver obeys it and the checker agrees."""

from __future__ import annotations

from line_day import AFTERNOON, MORNING, H, LineDay

from optimizer import ReasonCode, Result, SolveParams, solve
from optimizer.check import check

# Greedy descent stops at its local optimum, so these tiny days solve in milliseconds.
FAST = SolveParams(time_limit_s=10, metaheuristic="greedy_descent")


def planned(day: LineDay) -> Result:
    data = day.data()
    result = solve(data, FAST, seed=1)
    assert result.ok, result.reasons
    assert check(data, result) == []
    return result


def vehicle_of(result: Result, visit_id: str) -> str | None:
    return next((r.vehicle_id for r in result.routes if visit_id in r.visit_ids), None)


def reason_of(result: Result, visit_id: str) -> ReasonCode | None:
    return next((u.code for u in result.unassigned if u.visit_id == visit_id), None)


def test_slot_splits_morning_work_across_crews(day: LineDay) -> None:
    """Four 90-minute morning jobs fit no single crew's morning, so two crews share them."""
    day.depot()
    day.truck("A")
    day.truck("B")
    for n in range(4):
        day.visit(f"V{n}", at_km=5, service_s=90 * 60)
    result = planned(day)
    assert not result.unassigned
    assert len(result.routes) == 2
    assert all(len(route.stops) <= 3 for route in result.routes)
    assert all(MORNING[0] <= s.start <= MORNING[1] for r in result.routes for s in r.stops)


def test_afternoon_visit_waits_for_its_slot(day: LineDay) -> None:
    """A nearby afternoon visit is served after the morning one, never before 13:00."""
    day.depot()
    day.truck("A")
    day.visit("PM", at_km=1, window=AFTERNOON)
    day.visit("AM", at_km=2, window=MORNING)
    result = planned(day)
    assert result.routes[0].visit_ids == ("AM", "PM")
    assert result.routes[0].stops[1].start >= AFTERNOON[0]


def test_weight_splits_loads(day: LineDay) -> None:
    """Two 600 kg orders cannot share a 1,000 kg truck."""
    day.depot()
    day.truck("A")
    day.truck("B")
    day.visit("V1", at_km=3, weight_kg=600)
    day.visit("V2", at_km=3, weight_kg=600)
    result = planned(day)
    assert vehicle_of(result, "V1") != vehicle_of(result, "V2")
    assert all(r.stops[0].weight_on_board <= 1_000_000 for r in result.routes)


def test_volume_splits_loads(day: LineDay) -> None:
    """Two 6 m³ orders cannot share a 10 m³ truck."""
    day.depot()
    day.truck("A")
    day.truck("B")
    day.visit("V1", at_km=3, volume_m3=6)
    day.visit("V2", at_km=3, volume_m3=6)
    result = planned(day)
    assert vehicle_of(result, "V1") != vehicle_of(result, "V2")


def test_cash_cap_splits_collections(day: LineDay) -> None:
    """Two 30,000 CNY collections would put 60,000 on one truck: they go on two."""
    day.depot()
    day.truck("A")
    day.truck("B")
    day.visit("V1", at_km=3, cash_cny=30_000)
    day.visit("V2", at_km=3, cash_cny=30_000)
    result = planned(day)
    assert vehicle_of(result, "V1") != vehicle_of(result, "V2")
    assert max(s.cash_on_board for r in result.routes for s in r.stops) == 3_000_000


def test_cash_cap_leaves_out_with_reason(day: LineDay) -> None:
    """With one truck, the second big collection is left out and the cash cap is named."""
    day.depot()
    day.truck("A")
    day.visit("V1", at_km=3, cash_cny=30_000, priority=2)
    day.visit("V2", at_km=3, cash_cny=30_000, priority=1)
    result = planned(day)
    assert vehicle_of(result, "V1") == "A"
    assert reason_of(result, "V2") is ReasonCode.NO_ROOM
    assert "cash cap" in result.unassigned[0].reason


def test_skill_sends_visit_to_the_skilled_crew(day: LineDay) -> None:
    """A gas hob goes to the crew with the gas skill even from the far depot."""
    near, far = day.depot(0, "NEAR"), day.depot(40, "FAR")
    day.truck("PLAIN", depot=near)
    day.truck("GAS", depot=far, skills=["gas"])
    day.visit("HOB", at_km=2, skills=["gas"])
    result = planned(day)
    assert vehicle_of(result, "HOB") == "GAS"
    assert result.routes[0].distance == 2 * 38_000


def test_shift_end_moves_afternoon_work(day: LineDay) -> None:
    """A crew whose shift ends at noon gets no afternoon visit."""
    day.depot()
    day.truck("HALF", shift=(7 * H, 12 * H))
    day.truck("FULL", shift=(7 * H, 19 * H))
    day.visit("PM", at_km=1, window=AFTERNOON)
    result = planned(day)
    assert vehicle_of(result, "PM") == "FULL"
    assert result.routes[0].return_time <= 19 * H


def test_priority_decides_who_is_left_out(day: LineDay) -> None:
    """When only one of two orders fits, the higher priority one is served."""
    day.depot()
    day.truck("A")
    day.visit("LOW", at_km=1, weight_kg=700, priority=0)
    day.visit("HIGH", at_km=9, weight_kg=700, priority=3)
    result = planned(day)
    assert vehicle_of(result, "HIGH") == "A"
    assert reason_of(result, "LOW") is ReasonCode.NO_ROOM
    assert "weight" in result.unassigned[0].reason


def test_pinned_visit_stays_with_its_crew(day: LineDay) -> None:
    """A visit pinned to the far crew is served by it although another is closer."""
    near, far = day.depot(0, "NEAR"), day.depot(30, "FAR")
    day.truck("NEAR-CREW", depot=near)
    day.truck("FAR-CREW", depot=far)
    day.visit("V", at_km=1, pinned_to="FAR-CREW")
    assert vehicle_of(planned(day), "V") == "FAR-CREW"


def test_technician_serves_installs_and_trucks_deliveries(day: LineDay) -> None:
    """Install visits go to technicians, deliveries to trucks."""
    day.depot()
    day.truck("TRUCK")
    day.truck("TECH", kind="technician", weight_kg=100, volume_m3=1, crew_size=1)
    day.visit("INSTALL", at_km=2, kind="install", service_s=3600)
    day.visit("DELIVER", at_km=2)
    result = planned(day)
    assert vehicle_of(result, "INSTALL") == "TECH"
    assert vehicle_of(result, "DELIVER") == "TRUCK"

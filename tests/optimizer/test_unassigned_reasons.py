"""Every visit left out comes back with the reason a dispatcher needs."""

from __future__ import annotations

import pytest
from line_day import AFTERNOON, H, LineDay

from optimizer import ReasonCode, SolveParams, solve
from optimizer.check import check

FAST = SolveParams(time_limit_s=10, metaheuristic="greedy_descent")


@pytest.mark.parametrize(
    ("visit", "code", "words"),
    [
        # nobody in the fleet has the stone skill
        (dict(skills=["stone"]), ReasonCode.MISSING_SKILL, "stone"),
        # 1,200 kg against 1,000 kg trucks
        (dict(weight_kg=1200), ReasonCode.TOO_HEAVY, "1,200 kg"),
        # 12 m³ against 10 m³ trucks
        (dict(volume_m3=12), ReasonCode.TOO_BULKY, "12.00 m³"),
        # 60,000 CNY against the 50,000 cap
        (dict(cash_cny=60_000), ReasonCode.TOO_MUCH_CASH, "60,000 CNY"),
        # afternoon window, but every shift ends at noon
        (dict(window=AFTERNOON), ReasonCode.WINDOW_UNREACHABLE, "13:00–18:00"),
        # an install visit, and the fleet is trucks only
        (dict(kind="install"), ReasonCode.WRONG_VISIT_KIND, "install"),
        # three carriers needed, crews are two
        (dict(min_crew=3), ReasonCode.CREW_TOO_SMALL, "3 people"),
    ],
)
def test_reason_for_an_impossible_visit(
    day: LineDay, visit: dict[str, object], code: ReasonCode, words: str
) -> None:
    """A visit no crew can ever serve is explained precisely, and the rest is still planned."""
    day.depot()
    day.truck("A", shift=(7 * H, 12 * H))
    day.visit("OK", at_km=1)
    day.visit("BAD", at_km=1, **visit)
    data = day.data()
    result = solve(data, FAST)
    assert result.ok
    assert [u.visit_id for u in result.unassigned] == ["BAD"]
    assert result.unassigned[0].code is code
    assert words in result.unassigned[0].reason
    assert result.routes[0].visit_ids == ("OK",)
    assert check(data, result) == []


def test_far_window_unreachable_from_the_depot(day: LineDay) -> None:
    """A morning visit 400 km away cannot be reached before noon."""
    day.depot()
    day.truck("A")
    day.visit("FAR", at_km=400)
    result = solve(day.data(), FAST)
    assert result.unassigned[0].code is ReasonCode.WINDOW_UNREACHABLE


def test_pinned_to_a_crew_without_the_skill(day: LineDay) -> None:
    """Pinning a gas job to a crew without the gas skill is explained, not silently moved."""
    day.depot()
    day.truck("PLAIN")
    day.truck("GAS", skills=["gas"])
    day.visit("HOB", at_km=1, skills=["gas"], pinned_to="PLAIN")
    result = solve(day.data(), FAST)
    assert result.unassigned[0].code is ReasonCode.PINNED_CREW_CANNOT


def test_full_fleet_says_no_room_and_which_resource(day: LineDay) -> None:
    """Over-full morning: the left-out visits name working time as what ran out."""
    day.depot()
    day.truck("A")
    for n in range(5):
        day.visit(f"V{n}", at_km=5, service_s=90 * 60)
    result = solve(day.data(), FAST)
    assert len(result.routes[0].stops) == 3
    assert {u.code for u in result.unassigned} == {ReasonCode.NO_ROOM}
    assert all("working time" in u.reason for u in result.unassigned)


def test_empty_fleet_is_a_status_not_an_exception(day: LineDay) -> None:
    """No vehicles at all: every visit unassigned with a reason, no exception."""
    day.depot()
    day.visit("V", at_km=1)
    result = solve(day.data(), FAST)
    assert result.ok
    assert result.unassigned[0].code is ReasonCode.WRONG_VISIT_KIND

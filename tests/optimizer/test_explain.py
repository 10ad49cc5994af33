"""Which crews could serve each visit, and why none could, on a mixed fleet."""

from __future__ import annotations

from line_day import AFTERNOON, H, LineDay

from optimizer import ReasonCode
from optimizer.explain import eligibility


def mixed_fleet(day: LineDay) -> None:
    """SMALL: 500 kg, home at noon; BIG: 1,000 kg; GAS: 1,000 kg and the gas skill."""
    day.depot()
    day.truck("SMALL", shift=(7 * H, 12 * H), weight_kg=500)
    day.truck("BIG")
    day.truck("GAS", skills=["gas"])


def test_each_visit_keeps_exactly_the_crews_every_rule_allows(day: LineDay) -> None:
    """Weight, window and skill each narrow the fleet per visit, crew by crew."""
    mixed_fleet(day)
    day.visit("LIGHT", at_km=1, weight_kg=100)
    day.visit("HEAVY", at_km=1, weight_kg=800)
    day.visit("LATE", at_km=1, window=AFTERNOON)
    day.visit("HOB", at_km=1, skills=["gas"])
    data = day.data()
    allowed = eligibility(data).allowed
    crews = {
        data.visits[visit].id: [data.vehicles[c].id for c in chosen]
        for visit, chosen in allowed.items()
    }
    assert crews == {
        "LIGHT": ["SMALL", "BIG", "GAS"],
        "HEAVY": ["BIG", "GAS"],
        "LATE": ["BIG", "GAS"],
        "HOB": ["GAS"],
    }


def test_the_first_rule_to_leave_no_crew_is_the_reason(day: LineDay) -> None:
    """The reason names the rule that emptied the fleet, worded over the crews left before it."""
    mixed_fleet(day)
    day.visit("OK", at_km=1)
    # the gas skill leaves GAS, whose 1,000 kg are too few: too heavy, not missing skill
    day.visit("GAS_AND_HEAVY", at_km=1, skills=["gas"], weight_kg=1200)
    # the pin leaves SMALL, whose 500 kg are the largest left
    day.visit("PINNED_HEAVY", at_km=1, weight_kg=800, pinned_to="SMALL")
    eligible = eligibility(day.data())
    assert sorted(eligible.allowed) == [0]
    reasons = {u.visit_id: (u.code, u.reason) for _, u in eligible.rejected}
    assert reasons["GAS_AND_HEAVY"][0] is ReasonCode.TOO_HEAVY
    assert "(1,000 kg)" in reasons["GAS_AND_HEAVY"][1]
    assert reasons["PINNED_HEAVY"][0] is ReasonCode.TOO_HEAVY
    assert "(500 kg)" in reasons["PINNED_HEAVY"][1]

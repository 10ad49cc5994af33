"""The checker and the edit fitting on routes given by ids with their deposits, on the line
day of test_deposits: truck T at km 0, V0..V3 at km 2, 4, 6, 8 paying ¥20,000 each, a cap
of ¥50,000, bank B at km 5 (09:00-17:00)."""

from __future__ import annotations

from test_deposits import cash_day

from optimizer.check import Violation, check_routes
from optimizer.data import deposit_at
from optimizer.deposits import fit_deposits

ALL = ["V0", "V1", "V2", "V3"]


def rules(violations: list[Violation]) -> set[tuple[str, str | None]]:
    return {(v.rule, v.visit_id) for v in violations}


def test_cash_over_the_cap_between_deposits_is_flagged() -> None:
    """Without a deposit, or one too late (after V2), the third ¥20,000 breaks the cap."""
    data = cash_day()
    assert rules(check_routes(data, {"T": ALL})) == {("cash", "V2")}
    assert rules(check_routes(data, {"T": ALL}, {"T": [(3, "B")]})) == {("cash", "V2")}


def test_a_deposit_in_the_right_place_is_clean() -> None:
    """Banking after V1 leaves ¥40,000 at most on board: no violation."""
    assert check_routes(cash_day(), {"T": ALL}, {"T": [(2, "B")]}) == []


def test_a_deposit_by_a_crew_of_one_or_out_of_hours_is_flagged() -> None:
    """A crew of one may not bank; a bank open 06:00-07:00 is closed when T gets there."""
    one = check_routes(cash_day(crew=1), {"T": ALL}, {"T": [(2, "B")]})
    assert rules(one) == {("deposit_crew", None)}
    early = check_routes(cash_day(bank_hours=(6 * 3600, 7 * 3600)), {"T": ALL}, {"T": [(2, "B")]})
    assert rules(early) == {("deposit_hours", None)}


def test_fitting_adds_a_needed_deposit_and_drops_a_useless_one() -> None:
    """V0..V3 get one deposit after two visits; a deposit before the only visit is dropped."""
    data = cash_day()
    fitted = fit_deposits(data, 0, [0, 1, 2, 3])
    assert fitted is not None and fitted.count(deposit_at(0)) == 1
    assert fitted.index(deposit_at(0)) == 2
    assert fit_deposits(data, 0, [deposit_at(0), 0]) == [0]


def test_fitting_gives_up_for_a_crew_that_may_not_bank() -> None:
    """A crew of one over its cap has no fitting: the checker names the rule instead."""
    assert fit_deposits(cash_day(crew=1), 0, [0, 1, 2, 3]) is None

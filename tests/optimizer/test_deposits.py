"""Deposit stops on tiny line days: a truck T at km 0, four cash visits V0..V3 at km 2, 4, 6, 8
of 20,000 CNY each, a cap of 50,000 CNY, and bank B at km 5 (09:00-17:00, 15 minutes).

Without a deposit T can take two of them; with one after the first two it takes all four.
"""

from __future__ import annotations

import importlib
from dataclasses import replace

import pytest
from line_day import H, LineDay

from optimizer import Result, SolveParams, Status, solve
from optimizer.check import check
from optimizer.data import ProblemData, deposit_at
from optimizer.deposits import bank_copies, cash_exceeds_caps
from optimizer.engine import EngineRun, Progress
from optimizer.explain import eligibility
from optimizer.repair import insert_left_out
from optimizer.schedule import build_route

FAST = SolveParams(time_limit_s=10, metaheuristic="greedy_descent")
ENGINES = [("hgs", "ortools"), ("ortools",)]
CAP_FEN = 50_000 * 100


def cash_day(
    *, crew: int = 2, bank_hours: tuple[int, int] | None = (9 * H, 17 * H), cash: int = 20_000
) -> ProblemData:
    """The day above; no bank when `bank_hours` is None."""
    day = LineDay()
    day.depot()
    day.truck("T", crew_size=crew)
    for n, km in enumerate((2, 4, 6, 8)):
        day.visit(f"V{n}", at_km=km, cash_cny=cash, window=(8 * H, 18 * H))
    if bank_hours is not None:
        day.bank("B", at_km=5, hours=bank_hours)
    return day.data()  # type: ignore[no-any-return]


def planned(data: ProblemData, params: SolveParams = FAST) -> Result:
    result = solve(data, params, seed=1)
    assert result.ok, result.reasons
    assert check(data, result) == []
    return result


@pytest.mark.parametrize("engines", ENGINES)
def test_deposit_lets_a_truck_carry_more_than_its_cap_over_the_day(
    engines: tuple[str, ...],
) -> None:
    """All four visits (80,000 CNY) are served, never more than 50,000 CNY between deposits."""
    result = planned(cash_day(), replace(FAST, engines=engines))
    (route,) = result.routes
    assert len(route.stops) == 4 and route.deposits
    assert max(stop.cash_on_board for stop in route.stops) <= CAP_FEN
    assert sum(deposit.amount for deposit in route.deposits) >= 80_000 * 100 - CAP_FEN


@pytest.mark.parametrize("engines", ENGINES)
def test_one_person_crew_never_deposits(engines: tuple[str, ...]) -> None:
    """A crew of one may not go to the bank, so it takes two visits and no deposit."""
    result = planned(cash_day(crew=1), replace(FAST, engines=engines))
    (route,) = result.routes
    assert len(route.stops) == 2 and route.deposits == ()
    assert {u.code for u in result.unassigned} == {"no_room"}


def test_deposit_is_made_within_the_banks_hours() -> None:
    """A bank open 11:00-12:00, visits before 10:00 and after 13:00: the deposit is 11-12."""
    day = LineDay()
    day.depot()
    day.truck("T")
    for n, km in enumerate((2, 4)):
        day.visit(f"M{n}", at_km=km, cash_cny=20_000, window=(8 * H, 10 * H))
    for n, km in enumerate((6, 8)):
        day.visit(f"A{n}", at_km=km, cash_cny=20_000, window=(13 * H, 15 * H))
    day.bank("B", at_km=5, hours=(11 * H, 12 * H))
    (route,) = planned(day.data()).routes
    assert len(route.stops) == 4
    (deposit,) = route.deposits
    assert deposit.start >= 11 * H and deposit.departure <= 12 * H
    assert deposit.after == 2 and deposit.amount == 40_000 * 100


@pytest.mark.parametrize("engines", ENGINES)
def test_bank_closed_all_working_day_gets_no_deposit(engines: tuple[str, ...]) -> None:
    """A bank open only 20:00-22:00, after the 07:00-19:00 shift, is never visited."""
    result = planned(cash_day(bank_hours=(20 * H, 22 * H)), replace(FAST, engines=engines))
    (route,) = result.routes
    assert len(route.stops) == 2 and route.deposits == ()


def test_progress_never_counts_a_deposit_as_a_visit() -> None:
    """OR-Tools' progress reports at most the four visits, though a route also has a bank."""
    seen: list[Progress] = []

    def record(progress: Progress) -> None:
        seen.append(progress)

    data = cash_day()
    result = solve(data, replace(FAST, engines=("ortools",)), seed=1, progress=record)
    assert result.routes[0].deposits
    assert 0 < max(progress.visits_routed for progress in seen) <= 4


def test_build_route_refuses_what_breaks_a_deposit_rule() -> None:
    """Over the cap between deposits, a deposit outside hours, or by a crew of one: None."""
    bank = deposit_at(0)
    data = cash_day()
    assert build_route(data, 0, [0, 1, bank, 2, 3]) is not None
    assert build_route(data, 0, [0, 1, 2, bank, 3]) is None  # 60,000 CNY before the bank
    assert build_route(cash_day(crew=1), 0, [0, 1, bank, 2, 3]) is None
    assert build_route(cash_day(bank_hours=(20 * H, 22 * H)), 0, [0, 1, bank, 2, 3]) is None


def test_build_route_times_a_deposit() -> None:
    """T leaves at 07:56, serves V0, V1, waits at B for 09:00, hands over 40,000 CNY."""
    route = build_route(cash_day(), 0, [0, 1, deposit_at(0), 2, 3])
    assert route is not None
    (deposit,) = route.deposits
    # 2 min per km; V0 starts 08:00 at the earliest: leave 07:56, V0 08:00-08:10, V1
    # 08:14-08:24, B 08:26, wait to 09:00, 09:15 away, V2 at 09:17 with 0 CNY carried before.
    assert (deposit.arrival, deposit.start, deposit.departure) == (
        8 * H + 26 * 60,
        9 * H,
        9 * H + 15 * 60,
    )
    assert deposit.amount == 40_000 * 100 and deposit.distance_from_previous == 1_000
    assert route.stops[2].arrival == 9 * H + 17 * 60
    assert route.stops[2].cash_on_board == 20_000 * 100
    assert route.distance == 16_000  # 0 -> 2 -> 4 -> 5 -> 6 -> 8 -> 0


def test_repair_adds_a_deposit_to_take_a_cash_visit() -> None:
    """The repair puts a deposit into T's route of V0, V1 so that V2 and V3 fit too."""
    data = cash_day()
    routes = {0: [0, 1]}
    timed = {0: build_route(data, 0, [0, 1])}
    assert timed[0] is not None
    allowed = eligibility(data).allowed
    assert insert_left_out(data, routes, timed, [2, 3], allowed) == []  # type: ignore[arg-type]
    assert sorted(v for v in routes[0] if v >= 0) == [0, 1, 2, 3]
    assert len(timed[0].deposits) == 1  # type: ignore[union-attr]


def test_repair_inserts_into_a_route_with_a_deposit() -> None:
    """A no-cash visit is inserted into a route that already deposits, the deposit kept."""
    day = LineDay()
    day.depot()
    day.truck("T")
    for n, km in enumerate((2, 4, 6, 8)):
        day.visit(f"V{n}", at_km=km, cash_cny=20_000, window=(8 * H, 18 * H))
    day.visit("F", at_km=7, window=(8 * H, 18 * H))
    day.bank("B", at_km=5)
    data = day.data()
    order = [0, 1, deposit_at(0), 2, 3]
    routes, timed = {0: order}, {0: build_route(data, 0, order)}
    assert insert_left_out(data, routes, timed, [4], eligibility(data).allowed) == []  # type: ignore[arg-type]
    assert deposit_at(0) in routes[0] and 4 in routes[0]


def test_no_bank_nodes_where_the_cap_cannot_bind() -> None:
    """No banks, no crew that may deposit, or too little cash: the engine adds no bank node."""
    allowed = eligibility(cash_day()).allowed
    assert bank_copies(cash_day(), allowed, None) >= 1
    assert bank_copies(cash_day(bank_hours=None), allowed, None) == 0
    assert bank_copies(cash_day(crew=1), allowed, None) == 0
    assert bank_copies(cash_day(cash=1_000), allowed, None) == 0
    assert bank_copies(cash_day(), allowed, {0: [0, 1], 1: []}) >= 1


def test_banks_change_nothing_on_a_day_without_cash_pressure() -> None:
    """With 1,000 CNY a visit the plan with a bank is the plan without one, deposit-free."""
    params = SolveParams(time_limit_s=30, solution_limit=200, engines=("ortools",))
    with_bank = planned(cash_day(cash=1_000), params)
    without = planned(cash_day(cash=1_000, bank_hours=None), params)
    assert with_bank.objective == without.objective
    assert with_bank.routes == without.routes
    assert all(route.deposits == () for route in with_bank.routes)


def good_plan() -> tuple[ProblemData, Result]:
    """T on V0, V1, B, V2, V3: the plan every checker test below breaks in one way."""
    data = cash_day()
    route = build_route(data, 0, [0, 1, deposit_at(0), 2, 3])
    assert route is not None
    result = planned(data, replace(FAST, engines=("ortools",)))
    return data, replace(result, routes=(route,), unassigned=())


def rules(data: ProblemData, result: Result) -> set[str]:
    return {violation.rule for violation in check(data, result)}


def test_checker_accepts_the_good_plan() -> None:
    """The hand-timed plan with one deposit breaks no rule."""
    assert rules(*good_plan()) == set()


def test_checker_rejects_cash_over_the_cap_between_deposits() -> None:
    """Without its deposit T would hold 80,000 CNY after V3."""
    data, result = good_plan()
    (route,) = result.routes
    late = replace(route.deposits[0], after=3, amount=60_000 * 100)
    assert "cash" in rules(data, replace(result, routes=(replace(route, deposits=()),)))
    assert "cash" in rules(data, replace(result, routes=(replace(route, deposits=(late,)),)))


def test_checker_rejects_a_deposit_by_a_crew_of_one() -> None:
    """The same plan on the day where T's crew is one person."""
    _, result = good_plan()
    assert "deposit_crew" in rules(cash_day(crew=1), result)


def test_checker_rejects_a_deposit_outside_the_banks_hours() -> None:
    """The same plan where the bank opens only at 20:00, and one where it closes at 09:10."""
    _, result = good_plan()
    assert "deposit_hours" in rules(cash_day(bank_hours=(20 * H, 22 * H)), result)
    assert "deposit_hours" in rules(cash_day(bank_hours=(8 * H, 9 * H + 10 * 60)), result)


def test_checker_rejects_a_wrong_deposit_amount() -> None:
    """A deposit of 30,000 CNY where T arrives with 40,000 CNY breaks only the amount rule."""
    data, result = good_plan()
    (route,) = result.routes
    short = replace(route.deposits[0], amount=30_000 * 100)
    assert rules(data, replace(result, routes=(replace(route, deposits=(short,)),))) == {
        "deposit_amount"
    }


def test_checker_rejects_an_unknown_bank_and_a_short_leg() -> None:
    """A deposit at a bank the day lacks, and a bank leg reported shorter than it is."""
    data, result = good_plan()
    (route,) = result.routes
    nowhere = replace(route.deposits[0], bank_id="X")
    short = replace(route.deposits[0], distance_from_previous=10)
    assert "deposit_bank" in rules(
        data, replace(result, routes=(replace(route, deposits=(nowhere,)),))
    )
    assert rules(data, replace(result, routes=(replace(route, deposits=(short,)),))) == {"distance"}


def test_checker_rejects_a_deposit_reported_before_the_drive_allows() -> None:
    """Arriving at the bank a minute after leaving V1, 2 minutes away, is a schedule breach."""
    data, result = good_plan()
    (route,) = result.routes
    early = replace(route.deposits[0], arrival=route.stops[1].departure + 60)
    assert rules(data, replace(result, routes=(replace(route, deposits=(early,)),))) == {"schedule"}


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("hours", {"hours": (17 * H, 9 * H)}),
        ("hours", {"hours": (-1, 9 * H)}),
        ("service_s", {"service_s": -5}),
        ("service_s", {"hours": (9 * H, 9 * H + 600), "service_s": 900}),
        ("lat", {"lat": 91.0}),
        ("lon", {"lon": 200.0}),
    ],
)
def test_add_bank_names_the_field_it_refuses(field: str, overrides: dict[str, object]) -> None:
    """Bad hours, service time or coordinates: the error names the bank and the field."""
    fields: dict[str, object] = {"lat": 30.0, "lon": 104.0, "hours": (9 * H, 17 * H)}
    fields.update(overrides)
    with pytest.raises(ValueError, match=f"bank 'B': {field}: "):
        LineDay().model.add_bank("B", **fields)  # type: ignore[arg-type]


def test_add_bank_refuses_a_used_id() -> None:
    """Two banks may not share an id."""
    day = LineDay()
    day.bank("B", at_km=1)
    with pytest.raises(ValueError, match="bank 'B': id: already used"):
        day.bank("B", at_km=2)


def test_cash_exceeds_caps_only_where_a_crew_may_deposit() -> None:
    """80,000 CNY against one 50,000 CNY cap: deposits must bind, unless no crew may make one."""
    allowed = eligibility(cash_day()).allowed
    assert cash_exceeds_caps(cash_day(), allowed)
    assert not cash_exceeds_caps(cash_day(crew=1), allowed)
    assert not cash_exceeds_caps(cash_day(bank_hours=None), allowed)
    assert not cash_exceeds_caps(cash_day(cash=12_000), allowed)


def test_an_engine_plan_over_the_cap_without_deposits_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine that ignored deposits and gave T all four visits gets an invalid result."""
    ignored = EngineRun(routes={0: [0, 1, 2, 3]}, objective=0, found=True, status="TEST")
    # The package exports the function solve under the module's name.
    solve_module = importlib.import_module("optimizer.solve")
    monkeypatch.setattr(solve_module, "run_engines", lambda *args, **kwargs: ignored)
    result = solve(cash_day(), FAST, seed=1)
    assert result.status is Status.INVALID
    assert result.routes == ()

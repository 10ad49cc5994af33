"""The genetic-search engine and the portfolio that combines it with OR-Tools."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from line_day import AFTERNOON, H, LineDay

from fixtures.generator import generate_day
from optimizer import ReasonCode, SolveParams, solve
from optimizer.check import check
from optimizer.dayfile import load_day
from optimizer.engine import EngineRun, solve_with_ortools
from optimizer.explain import eligibility
from optimizer.hgs import solve_with_hgs
from optimizer.pool import Deadlines
from optimizer.portfolio import PARALLEL_FROM_VISITS, Timeline, objective, timeline
from optimizer.settings import DispatchSettings

HGS_ONLY = SolveParams(time_limit_s=5, engines=("hgs",))


@pytest.mark.parametrize(
    ("truck", "visit", "served_by"),
    [
        # the skill rule, carried by PyVRP profiles
        ({"skills": ["gas"]}, {"skills": ["gas"]}, "SPECIAL"),
        # the visit-kind rule: installs are for technicians
        ({"kind": "technician", "crew_size": 1}, {"kind": "install"}, "SPECIAL"),
        # the crew-size rule: a three-person job
        ({"crew_size": 3}, {"min_crew": 3}, "SPECIAL"),
    ],
)
def test_hgs_keeps_compatibility_rules(
    day: LineDay, truck: dict[str, object], visit: dict[str, object], served_by: str
) -> None:
    """Genetic search sends a restricted visit only to the crew allowed to serve it."""
    near, far = day.depot(0, "NEAR"), day.depot(40, "FAR")
    day.truck("PLAIN", depot=near)
    day.truck("SPECIAL", depot=far, **truck)
    day.visit("V", at_km=1, **visit)
    data = day.data()
    result = solve(data, HGS_ONLY)
    assert check(data, result) == []
    assert result.routes[0].vehicle_id == served_by


def test_hgs_respects_cash_weight_and_shift(day: LineDay) -> None:
    """Capacities and shifts bind in genetic search exactly as in OR-Tools."""
    day.depot()
    day.truck("A", shift=(7 * H, 12 * H))
    day.truck("B")
    day.visit("CASH1", at_km=2, cash_cny=30_000)
    day.visit("CASH2", at_km=2, cash_cny=30_000)
    day.visit("PM", at_km=3, window=AFTERNOON)
    data = day.data()
    result = solve(data, HGS_ONLY)
    assert check(data, result) == []
    by_visit = {s.visit_id: r.vehicle_id for r in result.routes for s in r.stops}
    assert by_visit["CASH1"] != by_visit["CASH2"]
    assert by_visit["PM"] == "B"


@pytest.mark.parametrize(
    ("first", "second", "searched", "capacities"),
    [
        # 600 kg over SMALL's 500 kg and nothing else carried: weight alone, in grams
        ({"weight_kg": 300}, {"weight_kg": 300}, [[300_000], [300_000]], [1_000_000, 500_000]),
        # 20,000 CNY is SMALL's cash cap exactly, so no route can exceed it: no load at all
        ({"cash_cny": 10_000}, {"cash_cny": 10_000}, [[], []], []),
        # one fen more and a route could: cash alone, in fen
        (
            {"cash_cny": 10_000},
            {"cash_cny": 10_000.01},
            [[1_000_000], [1_000_001]],
            [5_000_000, 2_000_000],
        ),
        # 6 m³ over SMALL's 5 m³, 400 kg within it: volume alone, in cm³
        (
            {"weight_kg": 200, "volume_m3": 3},
            {"weight_kg": 200, "volume_m3": 3},
            [[3_000_000], [3_000_000]],
            [10_000_000, 5_000_000],
        ),
    ],
)
def test_search_carries_only_loads_a_route_could_exceed(
    day: LineDay,
    first: dict[str, object],
    second: dict[str, object],
    searched: list[list[int]],
    capacities: list[int],
) -> None:
    """A load whose day total fits the smallest truck stays out of PyVRP's problem."""
    from optimizer.hgs import build_problem

    day.depot()
    day.truck("BIG")
    day.truck("SMALL", weight_kg=500, volume_m3=5, cash_cap_cny=20_000)
    day.visit("V1", at_km=1, **first)
    day.visit("V2", at_km=2, **second)
    data = day.data()
    problem, _, _ = build_problem(data, eligibility(data).allowed)
    assert [list(client.delivery) for client in problem.clients()] == searched
    by_truck = [list(t.capacity) for t in problem.vehicle_types()]
    assert by_truck == [capacities[:1], capacities[1:]]


def test_hgs_leaves_out_the_lowest_priority(day: LineDay) -> None:
    """With room for one of two orders, the prize of the higher priority wins."""
    day.depot()
    day.truck("A")
    day.visit("LOW", at_km=1, weight_kg=700, priority=0)
    day.visit("HIGH", at_km=9, weight_kg=700, priority=3)
    result = solve(day.data(), HGS_ONLY)
    assert result.routes[0].visit_ids == ("HIGH",)
    assert result.unassigned[0].code is ReasonCode.NO_ROOM


def test_objective_counts_metres_and_penalties(day: LineDay) -> None:
    """The portfolio's yardstick: route metres plus the penalty of every visit left out."""
    day.depot()
    day.truck("A")
    day.visit("V1", at_km=3)
    day.visit("V2", at_km=5)
    data = day.data()
    allowed = eligibility(data).allowed
    both = EngineRun(routes={0: [0, 1]}, objective=0, found=True, status="")
    one = EngineRun(routes={0: [0]}, objective=0, found=True, status="")
    assert objective(data, both, allowed) == 10_000
    assert objective(data, one, allowed) > objective(data, both, allowed)


def test_parallel_searches_on_a_generated_day() -> None:
    """A day big enough for one search per core comes back checker-clean."""
    content = generate_day(
        seed=3, visits=PARALLEL_FROM_VISITS + 10, trucks=12, technicians=2, date="2026-11-24"
    )
    data = load_day(content, dt.date(2026, 11, 24), DispatchSettings()).data
    result = solve(data, SolveParams(time_limit_s=6, workers=2), seed=5)
    assert result.ok and check(data, result) == []
    # The plan must come from the genetic searches, not from a silent fallback.
    assert result.engine.startswith("HGS_OK")
    assert result.kpis.visits_routed > 0.8 * len(data.visits)


def test_engine_returns_plain_routes(day: LineDay) -> None:
    """The engine's answer is plain indices: no PyVRP object leaves the module."""
    day.depot()
    day.truck("A")
    day.visit("V", at_km=2)
    data = day.data()
    deadline = time.monotonic() + 2
    run = solve_with_hgs(
        data, eligibility(data).allowed, deadline=deadline, seed=0, no_improvement=500
    )
    assert run.found and run.routes == {0: [0]}
    assert all(type(v) is int for route in run.routes.values() for v in route)


@pytest.mark.parametrize(
    "bad",
    [
        {"engines": ("lkh",)},  # an engine we do not have
        {"engines": ()},  # no engine at all
        {"workers": 0},  # nobody to search
    ],
)
def test_bad_engine_parameters(bad: dict[str, object]) -> None:
    """Engine parameters are validated at construction, naming the field."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        SolveParams(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limit", "visits", "polish", "stages"),
    [
        # 1,000 visits in 60 s, no polish: optional searches keep 1.2 s (2% of the limit),
        # searches serving everyone 0.25 + 0.2 s; a polish would end 1.5 s before 98.8
        (60.0, 1_000, False, Timeline(Deadlines(optional=98.8, everyone=99.55), 97.3, 0.5)),
        # the same with a polish: the optional searches leave it 3 s (5% of the limit)
        (60.0, 1_000, True, Timeline(Deadlines(optional=94.3, everyone=99.55), 97.3, 0.5)),
        # 10 visits in 1 s: the 0.02 s reserve is smaller than the one for everyone, so both
        # end together; 0.03 s of polish overrun, a polish of 2.005 s (two seconds, a model)
        (1.0, 10, True, Timeline(Deadlines(optional=97.945, everyone=99.98), 99.95, 0.005)),
    ],
)
def test_timeline_lets_plans_serving_everyone_search_longest(
    limit: float, visits: int, polish: bool, stages: Timeline
) -> None:
    """A plan serving everyone needs no re-insertion or explanations, so its search ends last."""
    found = timeline(100.0, limit, visits, polish=polish)
    assert found.searches.optional == pytest.approx(stages.searches.optional)
    assert found.searches.everyone == pytest.approx(stages.searches.everyone)
    assert found.polish_by == pytest.approx(stages.polish_by)
    assert found.model_build_s == pytest.approx(stages.model_build_s)


def test_timeline_gives_the_polish_its_share() -> None:
    """A deposit day's 25% polish share of 60 s leaves the optional searches 15 s less."""
    found = timeline(100.0, 60.0, 1_000, polish=True, share=0.25)
    assert found.searches.optional == pytest.approx(97.3 - 15.0)
    assert found.polish_by == pytest.approx(97.3)


@pytest.mark.parametrize(
    ("give_up_share", "status"),
    [
        # asking for everyone on an over-full day finds nothing, then continues optional
        (0.25, "HGS_OK (no plan serves everyone)"),
        # optional visits give a plan straight away
        (None, "HGS_OK"),
    ],
)
def test_search_process_honours_required(
    day: LineDay, give_up_share: float | None, status: str
) -> None:
    """A search process passes the required flag on, and an impossible one falls back."""
    import queue
    import threading

    from optimizer.pool import Deadlines, child

    day.depot()
    day.truck("A")
    day.visit("V1", at_km=1, weight_kg=700)
    day.visit("V2", at_km=2, weight_kg=700)
    data = day.data()
    out: queue.Queue[tuple[str, object]] = queue.Queue()
    deadline = time.monotonic() + 2
    deadlines = Deadlines(optional=deadline, everyone=deadline)
    allowed = eligibility(data).allowed
    child(data, allowed, deadlines, None, 0, give_up_share, out, threading.Event())  # type: ignore[arg-type]
    messages = [out.get_nowait() for _ in range(out.qsize())]
    runs = [payload for kind, _, payload in messages if kind == "run"]
    assert len(runs) == 1 and isinstance(runs[0], EngineRun)
    assert runs[0].found and runs[0].status == status
    assert sorted(v for route in runs[0].routes.values() for v in route) in ([0], [1])


def test_neighbourhood_keeps_installs_among_installs(day: LineDay) -> None:
    """An install's neighbours are installs: deliveries next door can never share its route."""
    from optimizer.hgs import _neighbourhood

    day.depot()
    day.truck("TRUCK")
    day.truck("TECH", kind="technician", crew_size=1)
    for k in range(4):
        day.visit(f"D{k}", at_km=k)
        day.visit(f"I{k}", at_km=k + 0.1, kind="install")
    data = day.data()
    allowed = eligibility(data).allowed
    visits = sorted(allowed)
    neighbours = _neighbourhood(data, visits, allowed)
    assert neighbours is not None
    kind = {k: data.visits[v].kind for k, v in enumerate(visits)}
    for activity, near in neighbours.items():
        assert near and all(kind[n.idx] == kind[activity.idx] for n in near)


def test_one_profile_keeps_pyvrps_own_neighbourhood(day: LineDay) -> None:
    """When every crew may serve every visit, PyVRP's neighbourhood is left as it is."""
    from optimizer.hgs import _neighbourhood

    day.depot()
    day.truck("A")
    day.truck("B")
    day.visit("V1", at_km=1)
    day.visit("V2", at_km=2)
    data = day.data()
    allowed = eligibility(data).allowed
    assert _neighbourhood(data, sorted(allowed), allowed) is None


def test_polish_past_its_deadline_keeps_the_routes_it_was_given(day: LineDay) -> None:
    """OR-Tools past its deadline stops at once and still returns its starting plan."""
    day.depot()
    day.truck("A")
    day.visit("V1", at_km=1)
    day.visit("V2", at_km=2)
    data = day.data()
    started = time.monotonic()
    run = solve_with_ortools(
        data,
        eligibility(data).allowed,
        # guided local search would use all of its 30 s limit without the deadline
        SolveParams(time_limit_s=30, metaheuristic="guided_local_search"),
        seed=0,
        initial={0: [1, 0]},
        deadline=time.monotonic() - 5,
    )
    assert run.found and sorted(run.routes[0]) == [0, 1]
    assert time.monotonic() - started < 15

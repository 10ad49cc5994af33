"""Cutting a plan into parts of whole routes, and improving a plan part by part."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence

import pytest
from line_day import AFTERNOON, MORNING, LineDay

from fixtures.generator import generate_day
from optimizer.check import check
from optimizer.data import ProblemData
from optimizer.dayfile import load_day
from optimizer.decompose import Part, split
from optimizer.engine import EngineRun
from optimizer.explain import eligibility
from optimizer.hgs import build_problem, solve_with_hgs
from optimizer.params import SolveParams
from optimizer.pool import Deadlines, SearchPool, Task
from optimizer.portfolio import (
    BY_PARTS,
    DECOMPOSE_FROM_VISITS,
    FEWER_CREWS_TRIED,
    _Backoff,
    _improve_by_parts,
    _one_crew_fewer,
    _squeeze,
    _squeeze_tasks,
    objective,
)
from optimizer.settings import DispatchSettings
from optimizer.solve import solve
from optimizer.spare import fewer_crews

# Four two-visit routes along the road: A near the depot, B next, C and D ten km out.
ROUTES = {0: [0, 1], 1: [2, 3], 2: [4, 5], 3: [6, 7]}
KM = (1, 2, 3, 4, 10, 11, 12, 13)


def four_routes(day: LineDay) -> None:
    day.depot()
    for name in "ABCD":
        day.truck(name)
    day.truck("IDLE_GAS", skills=["gas"])
    day.truck("IDLE")
    for k, km in enumerate(KM):
        day.visit(f"V{k}", at_km=km)


@pytest.mark.parametrize(
    ("anchor", "near_part"),
    [
        (0, {0, 1}),  # around route A: A and B are the inner ring
        (3, {2, 3}),  # around route D: D and C are
    ],
)
def test_parts_are_rings_of_whole_routes(day: LineDay, anchor: int, near_part: set[int]) -> None:
    """Routes nearest the anchor form the first part; each part keeps its routes whole."""
    four_routes(day)
    data = day.data()
    allowed = eligibility(data).allowed
    first, second = split(data, ROUTES, allowed, parts=2, anchor=anchor)
    assert set(first.initial) - {4, 5} == near_part
    assert first.vehicles.isdisjoint(second.vehicles)
    assert {4, 5} == {v for part in (first, second) for v in part.vehicles} - set(ROUTES)
    for part in (first, second):
        served = {v for route in part.initial.values() for v in route}
        assert served == set(part.allowed)
        assert all(set(crews) <= part.vehicles for crews in part.allowed.values())


@pytest.mark.parametrize(
    ("visit", "home_vehicle"),
    [
        ({}, 2),  # a plain visit at km 12.5 joins the part of routes C and D
        ({"skills": ["gas"]}, 4),  # a gas visit joins the part holding the gas crew
    ],
)
def test_a_visit_left_out_joins_a_part_that_can_serve_it(
    day: LineDay, visit: dict[str, object], home_vehicle: int
) -> None:
    """An unserved visit goes to the nearest part among those with a crew allowed to serve it."""
    four_routes(day)
    day.visit("LEFT_OUT", at_km=12.5, **visit)
    data = day.data()
    allowed = eligibility(data).allowed
    parts = split(data, ROUTES, allowed, parts=2, anchor=0)
    home = next(part for part in parts if 8 in part.allowed)
    assert home_vehicle in home.vehicles
    assert 8 not in {v for route in home.initial.values() for v in route}
    assert set(home.allowed[8]) <= home.vehicles


def test_too_few_routes_give_no_parts(day: LineDay) -> None:
    """Three routes cannot make two parts of at least two routes each."""
    four_routes(day)
    data = day.data()
    three = {k: ROUTES[k] for k in range(3)}
    assert split(data, three, eligibility(data).allowed, parts=2, anchor=0) == []


def test_crews_that_serve_nothing_stay_out_of_the_search(day: LineDay) -> None:
    """A part's problem carries only its own crews, not every other part's as well."""
    four_routes(day)
    data = day.data()
    allowed = {visit: [0] for visit in eligibility(data).allowed}
    problem, _, groups = build_problem(data, allowed)
    assert groups == [[0]] and problem.num_vehicles == 1


def test_a_warm_start_is_never_made_worse(day: LineDay) -> None:
    """A search started from a plan returns that plan or a better one."""
    four_routes(day)
    data = day.data()
    allowed = eligibility(data).allowed
    # A poor plan: A drives out to km 13 and back for one visit, D covers km 1.
    poor = {0: [0, 1, 7], 1: [2, 3], 2: [4, 5], 3: [6]}
    before = objective(data, EngineRun(poor, 0, True, ""), allowed)
    run = solve_with_hgs(
        data, allowed, deadline=time.monotonic() + 2, seed=1, no_improvement=500, initial=poor
    )
    assert run.found and objective(data, run, allowed) <= before


def generated_day() -> tuple[ProblemData, Mapping[int, Sequence[int]]]:
    """A generated day just large enough to be improved by parts, and who may serve what."""
    content = generate_day(
        seed=4, visits=DECOMPOSE_FROM_VISITS + 20, trucks=24, technicians=3, date="2026-11-24"
    )
    data = load_day(content, dt.date(2026, 11, 24), DispatchSettings()).data
    return data, eligibility(data).allowed


def first_searches(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    *,
    seconds: float,
    steady_seconds: float | None = None,
) -> SearchPool:
    """Two search processes whose searches of the whole day end in `seconds`, the first
    one's in `steady_seconds` if given."""
    first = time.monotonic() + seconds
    whole_day = Deadlines(optional=first, everyone=first)
    steady = None
    if steady_seconds is not None:
        end = time.monotonic() + steady_seconds
        steady = Deadlines(optional=end, everyone=end)
    return SearchPool(
        data, allowed, whole_day, None, workers=2, seed=3, progress=None, steady=steady
    )


def test_rounds_by_parts_improve_a_generated_day() -> None:
    """Rounds by parts keep every rule, never worsen the plan, and report their progress."""
    data, allowed = generated_day()
    with first_searches(data, allowed, seconds=4) as pool:
        best = min(pool.first_runs(), key=lambda run: objective(data, run, allowed))
        announced: list[EngineRun] = []

        def announce(run: EngineRun) -> bool:
            announced.append(run)
            return False  # never asks the rounds to stop

        end = time.monotonic() + 5
        improved = _improve_by_parts(
            data,
            allowed,
            pool,
            best,
            Deadlines(optional=end, everyone=end),
            seed=3,
            announce=announce,
        )
    assert announced, "no round ran"
    assert objective(data, improved, allowed) <= objective(data, best, allowed)
    assert improved.objective == objective(data, improved, allowed)
    result = solve(data, SolveParams(time_limit_s=10, workers=2), seed=3)
    assert result.ok and check(data, result) == []


# Crews 0-2 serve three routes of 3, 1 and 2 visits; crew 3 is idle.
SQUEEZED_ROUTES = {0: [1, 2, 3], 1: [4], 2: [5, 6], 3: []}


@pytest.mark.parametrize(
    ("allowed", "kept"),
    [
        # anyone may serve anything: the shortest route's crew and the idle one stay home
        ({v: [0, 1, 2, 3] for v in range(1, 7)}, {0, 2}),
        # only crew 1 may serve visit 4: the next shortest route's crew stays home instead
        ({**{v: [0, 1, 2, 3] for v in range(1, 7)}, 4: [1]}, {0, 1}),
    ],
)
def test_fewer_crews_spares_the_shortest_route_no_visit_needs(
    allowed: dict[int, list[int]], kept: set[int]
) -> None:
    """A squeezed fleet drops the shortest route's crew, unless a visit has no other crew."""
    fewer = fewer_crews(EngineRun(SQUEEZED_ROUTES, 0, True, ""), allowed, 1)
    assert fewer == {visit: [c for c in crews if c in kept] for visit, crews in allowed.items()}


def test_fewer_crews_spares_none_when_every_crew_is_needed() -> None:
    """With every route's crew the only one allowed for some visit, nobody can stay home."""
    allowed = {1: [0], 2: [0], 3: [0], 4: [1], 5: [2], 6: [2, 3]}
    assert fewer_crews(EngineRun(SQUEEZED_ROUTES, 0, True, ""), allowed, 1) is None


def test_two_crews_stay_home_when_asked_for_two() -> None:
    """Asked for two, the crews of the two shortest routes stay home, and the idle one."""
    allowed = {v: [0, 1, 2, 3] for v in range(1, 7)}
    fewer = fewer_crews(EngineRun(SQUEEZED_ROUTES, 0, True, ""), allowed, 2)
    assert fewer == {visit: [0] for visit in allowed}


def test_a_part_tries_one_crew_fewer_from_its_own_routes() -> None:
    """The task searches without its part's shortest route and idle crew, on the same terms."""
    part = Part(
        vehicles=frozenset(SQUEEZED_ROUTES),
        allowed={v: [0, 1, 2, 3] for v in range(1, 7)},
        initial=SQUEEZED_ROUTES,
    )
    task = Task(part.allowed, part.initial, 0.0, 1, True)
    squeezed = _one_crew_fewer(task, part)
    assert squeezed is not None
    assert squeezed.initial == {0: [1, 2, 3], 2: [5, 6]}
    assert squeezed.allowed == {v: [0, 2] for v in range(1, 7)}
    assert (squeezed.deadline, squeezed.seed, squeezed.required) == (0.0, 1, True)
    assert task == Task(part.allowed, part.initial, 0.0, 1, True)  # the task given is kept


def test_a_part_whose_crews_are_all_needed_keeps_them() -> None:
    """When each crew is the only one for some visit, no task searches with one fewer."""
    allowed = {1: [0], 2: [0], 3: [0], 4: [1], 5: [2], 6: [2, 3]}
    part = Part(vehicles=frozenset(SQUEEZED_ROUTES), allowed=allowed, initial=SQUEEZED_ROUTES)
    assert _one_crew_fewer(Task(allowed, SQUEEZED_ROUTES, 0.0, 1, True), part) is None


@pytest.mark.parametrize(
    ("outcomes", "due"),
    [
        # every try pays: due every round
        ([True, True, True], [0, 1, 2, 3]),
        # fails at 0 (wait 2), at 2 (wait 4), pays at 6 (due again at 7)
        ([False, False, True], [0, 2, 6, 7]),
    ],
)
def test_backoff_doubles_the_wait_after_each_failure(outcomes: list[bool], due: list[int]) -> None:
    """A try that does not pay doubles the rounds until the next; one that pays resets it."""
    backoff = _Backoff()
    tried = []
    outcome = iter(outcomes)
    for round_ in range(8):
        if backoff.due(round_):
            tried.append(round_)
            if len(tried) <= len(outcomes):
                backoff.record(round_, paid=next(outcome))
    assert tried[: len(due)] == due


def test_squeezing_searches_afresh_with_fewer_crews_beside_the_steady_search() -> None:
    """One process searches the day afresh using only the crews kept; the steady one goes on."""
    data, allowed = generated_day()
    with first_searches(data, allowed, seconds=4, steady_seconds=7) as pool:
        (best,) = pool.first_runs()
        end = time.monotonic() + 3
        deadlines = Deadlines(optional=end, everyone=end)
        runs = _squeeze(data, allowed, pool, best, deadlines, seed=3, spare=2)
    assert len(runs) == 2
    squeezed, steady = runs
    fewer = fewer_crews(best, allowed, 2) or {}
    kept = {crew for crews in fewer.values() for crew in crews}
    used = {vehicle for vehicle, route in best.routes.items() if route}
    assert kept and len(kept) <= len(used) - 2
    assert {vehicle for vehicle, route in squeezed.routes.items() if route} <= kept
    assert steady.found


def forty_visit_day(trucks: int) -> ProblemData:
    """40 visits of 100 kg along 40 km, open all day, for `trucks` trucks of 1,000 kg:
    four trucks carry the day, three never can."""
    day = LineDay()
    day.depot()
    for k in range(trucks):
        day.truck(f"T{k}")
    for k in range(40):
        day.visit(f"V{k}", at_km=1 + k, window=(MORNING[0], AFTERNOON[1]), weight_kg=100)
    return day.data()


def test_a_squeeze_finding_no_plan_searches_on_from_the_best_with_every_crew() -> None:
    """When the crews kept cannot carry the day, the process searches on from the best plan
    with every crew, so the rest of its time still yields a plan beside the steady one's."""
    data = forty_visit_day(trucks=4)
    allowed = eligibility(data).allowed
    with first_searches(data, allowed, seconds=2, steady_seconds=8) as pool:
        (best,) = pool.first_runs()
        end = time.monotonic() + 6
        runs = _squeeze(data, allowed, pool, best, Deadlines(end, end), seed=3, spare=1)
    assert len(runs) == 2  # the search on from the best, and the steady search
    searched_on, steady = runs
    for run in runs:
        assert sum(len(route) for route in run.routes.values()) == 40
        assert max(len(route) for route in run.routes.values()) <= 10  # 1,000 kg a truck
    assert sum(1 for route in searched_on.routes.values() if route) == 4
    assert steady.found


# Five routes on T0-T4, T0's the shortest (4 visits, then 9 each), T5 idle: one crew fewer
# keeps T1-T4, two fewer T2-T4. A search with every crew would put its routes on T0 first.
FIVE_ROUTES = EngineRun(
    routes={0: list(range(4))}
    | {t: list(range(9 * t - 5, 9 * t + 4)) for t in range(1, 5)}
    | {5: []},
    objective=0,
    found=True,
    status="",
)


@pytest.mark.parametrize(
    ("spare", "crews_per_task"),
    [
        # 2 crews fewer (T2-T4), then one fewer (T1-T4), then on from the plan with all six
        (2, [3, 4, 6]),
        # one crew fewer is already the first search: no second, then on from the plan
        (1, [4, 6]),
    ],
)
def test_a_squeeze_tries_one_crew_fewer_before_searching_on(
    spare: int, crews_per_task: list[int]
) -> None:
    """After the search with `spare` crews fewer, one crew fewer gets half its time."""
    data = forty_visit_day(trucks=6)
    allowed = eligibility(data).allowed
    until = time.monotonic() + 100
    tasks = _squeeze_tasks(FIVE_ROUTES, allowed, until, seed=3, spare=spare)
    crews = [len({c for cs in task.allowed.values() for c in cs}) for task in tasks]
    assert crews == crews_per_task
    *afresh, search_on = tasks
    assert all(not task.initial for task in afresh) and search_on.initial
    assert search_on.give_up_s is None
    give_ups = [task.give_up_s or 0.0 for task in afresh]
    assert give_ups[0] == pytest.approx(40, abs=0.5)  # 40% of the 100 s left
    assert give_ups[1:] == [pytest.approx(give_ups[0] / 2)] * (len(afresh) - 1)


def test_a_squeeze_where_two_crews_fewer_find_nothing_finds_one_fewer() -> None:
    """Three trucks cannot carry 4,000 kg, four can: the one-fewer search finds a plan."""
    data = forty_visit_day(trucks=6)
    allowed = eligibility(data).allowed
    with first_searches(data, allowed, seconds=1, steady_seconds=8) as pool:
        pool.first_runs()
        end = time.monotonic() + 6
        runs = _squeeze(data, allowed, pool, FIVE_ROUTES, Deadlines(end, end), seed=3, spare=2)
    assert len(runs) == 2  # the one-fewer search's plan, and the steady search's
    used = {vehicle for vehicle, route in runs[0].routes.items() if route}
    assert used <= {1, 2, 3, 4}  # T0, the shortest route's crew, and idle T5 stayed home
    assert sum(len(route) for route in runs[0].routes.values()) == 40


def long_route_day() -> ProblemData:
    """Visits along 40 km of one road, open all day, for 16 trucks: 26 or more a route."""
    day = LineDay()
    day.depot()
    for k in range(16):
        day.truck(f"T{k}")
    for k in range(DECOMPOSE_FROM_VISITS + 20):
        day.visit(f"V{k}", at_km=1 + (k * 7919) % 400 / 10, window=(MORNING[0], AFTERNOON[1]))
    return day.data()


def far_cluster_day() -> ProblemData:
    """Visits of 100 kg within 2 km, 60 km from the depot, for 1,000 kg trucks: 10 a route,
    nearly all of whose metres are the trips out and back."""
    day = LineDay()
    day.depot()
    for k in range(45):
        day.truck(f"T{k}")
    for k in range(DECOMPOSE_FROM_VISITS + 20):
        at_km = 60 + (k * 7919) % 200 / 100
        day.visit(f"V{k}", at_km=at_km, window=(MORNING[0], AFTERNOON[1]), weight_kg=100)
    return day.data()


@pytest.mark.parametrize(
    ("make_day", "strategy"),
    [
        # long routes: one process searches on, the other afresh with fewer crews
        pytest.param(long_route_day, FEWER_CREWS_TRIED, id="long routes"),
        # short routes far from the depot: the same, a route saved being most of the gain
        pytest.param(far_cluster_day, FEWER_CREWS_TRIED, id="far from the depot"),
        # a full-domain day, about 11 visits a route: rounds by parts
        pytest.param(lambda: generated_day()[0], BY_PARTS, id="short routes"),
    ],
)
def test_route_length_decides_how_a_large_day_is_searched(
    make_day: Callable[[], ProblemData], strategy: str
) -> None:
    """After the first searches, long routes and long trips to the depot get fewer crews, and
    other short routes rounds by parts."""
    data = make_day()
    result = solve(data, SolveParams(time_limit_s=8, workers=2), seed=3)
    assert result.ok and check(data, result) == []
    assert result.engine.startswith("HGS_OK") and strategy in result.engine

"""solve() as a whole: reproducible, observable, warm-startable, and always checker-clean."""

from __future__ import annotations

import multiprocessing as mp
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from line_day import AFTERNOON, MORNING, LineDay

from optimizer import Progress, SolveParams, solve
from optimizer.check import check
from optimizer.isolated import solve_isolated

FAST = SolveParams(time_limit_s=10, metaheuristic="greedy_descent")


def spread_day(day: LineDay, visits: int) -> LineDay:
    day.depot()
    for crew in ("A", "B", "C"):
        day.truck(crew)
    for n in range(visits):
        day.visit(
            f"V{n}",
            at_km=(n * 7) % 23,
            window=MORNING if n % 2 else AFTERNOON,
            weight_kg=80,
            cash_cny=(n % 5) * 4000,
        )
    return day


def test_same_seed_same_plan(day: LineDay) -> None:
    """Two runs with one seed and a solution limit give identical routes."""
    data = spread_day(day, 15).data()
    params = SolveParams(time_limit_s=30, solution_limit=200)
    first, second = solve(data, params, seed=7), solve(data, params, seed=7)
    assert [r.visit_ids for r in first.routes] == [r.visit_ids for r in second.routes]
    assert first.seed == 7


def test_progress_is_reported(day: LineDay) -> None:
    """The progress callback sees solutions with elapsed time and routed visits."""
    data = spread_day(day, 10).data()
    seen: list[Progress] = []
    solve(data, SolveParams(time_limit_s=1), progress=seen.append)
    assert seen
    assert seen[-1].visits_routed == 10
    assert all(0 <= p.elapsed_s <= 5 for p in seen)


def test_progress_is_steady_and_names_the_best_plan(day: LineDay) -> None:
    """Reports never go back in time or in plan, and carry the best plan's visits and metres."""
    data = spread_day(day, 40).data()
    seen: list[Progress] = []
    result = solve(data, SolveParams(time_limit_s=3), progress=seen.append)
    shares = [p.elapsed_s / p.time_limit_s for p in seen]
    assert shares == sorted(shares) and all(0 <= share <= 1 for share in shares)
    plans = [(p.visits_routed, -p.distance_m) for p in seen]
    assert plans == sorted(plans)
    # the genetic search names its plan while it runs, long before the polish at the end
    assert any(p.visits_routed > 0 and p.distance_m > 0 for p in seen if p.elapsed_s < 1.5)
    assert (seen[-1].visits_routed, seen[-1].distance_m) == (
        result.kpis.visits_routed,
        result.kpis.distance_m,
    )


def test_warm_start_keeps_a_good_plan(day: LineDay) -> None:
    """Starting from a previous plan never makes the plan worse under greedy descent."""
    data = spread_day(day, 12).data()
    cold = solve(data, FAST)
    warm = solve(data, FAST, initial_routes={r.vehicle_id: r.visit_ids for r in cold.routes})
    assert warm.ok and check(data, warm) == []
    assert warm.kpis.distance_m <= cold.kpis.distance_m


def test_kpis_add_up(day: LineDay) -> None:
    """KPIs agree with the routes they summarise."""
    result = solve(spread_day(day, 12).data(), FAST)
    assert result.kpis.visits_routed + result.kpis.visits_unassigned == 12
    assert result.kpis.distance_m == sum(r.distance for r in result.routes)
    assert 0 < result.kpis.utilisation <= 1


@st.composite
def random_days(draw: st.DrawFn) -> LineDay:
    day = LineDay(skills=("gas",))
    day.depot(draw(st.integers(0, 10)))
    for n in range(draw(st.integers(1, 3))):
        day.truck(
            f"T{n}",
            weight_kg=draw(st.integers(100, 1500)),
            cash_cap_cny=draw(st.integers(1000, 50_000)),
            skills=draw(st.sampled_from([[], ["gas"]])),
        )
    for n in range(draw(st.integers(1, 9))):
        start = draw(st.integers(7, 16)) * 3600
        day.visit(
            f"V{n}",
            at_km=draw(st.integers(0, 60)),
            window=(start, start + draw(st.integers(0, 5)) * 3600),
            service_s=draw(st.integers(0, 3600)),
            weight_kg=draw(st.integers(0, 900)),
            cash_cny=draw(st.integers(0, 30_000)),
            skills=draw(st.sampled_from([[], [], ["gas"]])),
            priority=draw(st.integers(0, 3)),
        )
    return day


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_days())
def test_every_plan_passes_the_checker(day: LineDay) -> None:
    """On random small days, every returned plan passes the independent checker."""
    data = day.data()
    result = solve(data, FAST)
    assert result.ok, result.reasons
    assert check(data, result) == []
    served = {v for r in result.routes for v in r.visit_ids}
    left_out = {u.visit_id for u in result.unassigned}
    assert served | left_out == {v.id for v in data.visits}
    assert not served & left_out


def test_progress_callback_can_stop_the_search(day: LineDay) -> None:
    """Returning True from the callback ends the search early with a valid plan."""
    data = spread_day(day, 12).data()
    calls: list[Progress] = []

    def stop_at_first(update: Progress) -> bool:
        calls.append(update)
        return True

    result = solve(data, SolveParams(time_limit_s=60), progress=stop_at_first)
    assert result.ok and check(data, result) == []
    assert len(calls) == 1
    assert result.seconds < 30


def test_isolated_solve_matches_the_contract(day: LineDay) -> None:
    """A solve in a child process returns a checker-clean plan and honours a stop request."""
    data = spread_day(day, 12).data()
    seen: list[Progress] = []

    def stop_after_two(update: Progress) -> bool:
        seen.append(update)
        return len(seen) >= 2

    result = solve_isolated(data, SolveParams(time_limit_s=60), seed=3, progress=stop_after_two)
    assert result.ok and check(data, result) == []
    assert result.seed == 3
    assert result.seconds < 30


def test_isolated_solve_runs_at_the_given_niceness(day: LineDay) -> None:
    """The child process searches at the caller's priority lowered by `niceness`."""
    data = spread_day(day, 12).data()
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[int] = []
    # A child an earlier test of this worker still winds down is not this solve's.
    earlier = {child.pid for child in mp.active_children()}

    def note_priority(update: Progress) -> bool:
        # Before the child's first plan it may still be starting, at the caller's priority: the
        # caller's clock ticks on (with elapsed time, no plan) while a loaded machine starts it.
        if update.objective > 0 or update.visits_routed > 0:
            ours = [c.pid or 0 for c in mp.active_children() if c.pid not in earlier]
            seen.extend(os.getpriority(os.PRIO_PROCESS, pid) for pid in ours)
        return len(seen) >= 2

    result = solve_isolated(data, SolveParams(time_limit_s=60), progress=note_priority, niceness=5)
    assert result.ok
    assert seen and set(seen) == {min(mine + 5, 19)}

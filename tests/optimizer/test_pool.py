"""Search processes: a steady first search beside the others, and cutting it short."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from typing import Any

import pytest
from line_day import AFTERNOON, MORNING, LineDay

from optimizer.data import ProblemData
from optimizer.engine import Progress
from optimizer.explain import eligibility
from optimizer.pool import Deadlines, SearchPool, Task, child


def thirty_visits() -> ProblemData:
    """Thirty visits along 30 km, open all day, for four trucks."""
    day = LineDay()
    day.depot()
    for k in range(4):
        day.truck(f"T{k}")
    for k in range(30):
        day.visit(f"V{k}", at_km=1 + k, window=(MORNING[0], AFTERNOON[1]))
    return day.data()


def drain(out: queue.Queue[Any]) -> list[str]:
    kinds = []
    while not out.empty():
        kinds.append(out.get()[0])
    return kinds


@pytest.mark.parametrize(
    ("cut_set", "reports"),
    [
        (True, 1),  # cut before it starts: it stops at its first report
        (False, 10),  # not cut: it reports every 200 iterations until 2,000 bring nothing
    ],
)
def test_a_cut_first_search_stops_at_its_first_report(cut_set: bool, reports: int) -> None:
    """A search process whose cut is set hands back its run at its first progress report."""
    data = thirty_visits()
    context = mp.get_context("spawn")
    out: queue.Queue[Any] = queue.Queue()
    cut = context.Event()
    if cut_set:
        cut.set()
    far = time.monotonic() + 300
    allowed = eligibility(data).allowed
    child(data, allowed, Deadlines(far, far), None, 1, None, out, context.Event(), None, 0, cut)
    kinds = drain(out)
    assert kinds[-1] == "run" and kinds.count("run") == 1
    assert (kinds.count("progress") == 1) if cut_set else (kinds.count("progress") >= reports)


@pytest.mark.parametrize(
    ("steady", "fewest", "most"),
    [
        (True, 51, 51),  # the steady search does all 10,000 iterations
        (False, 1, 39),  # another stops once 2,000 bring nothing, well before 10,000
    ],
)
def test_only_a_steady_first_search_goes_on_without_improving(
    steady: bool, fewest: int, most: int
) -> None:
    """A steady first search ends at its limit, not when it stops improving."""
    data = thirty_visits()
    context = mp.get_context("spawn")
    out: queue.Queue[Any] = queue.Queue()
    far = time.monotonic() + 300
    allowed = eligibility(data).allowed
    child(data, allowed, Deadlines(far, far), 10_000, 1, None, out, context.Event(), steady=steady)
    reports = drain(out).count("progress")  # at the 1st, 201st, ... and 10,001st stop check
    assert fewest <= reports <= most


def test_a_pool_makes_only_its_first_search_steady() -> None:
    """In a pool with a steady search, process 0 does all its iterations, process 1 stops
    once it stops improving: 51 reports and fewer than 40."""
    data = thirty_visits()
    allowed = eligibility(data).allowed
    reports: list[Progress] = []

    def progress(update: Progress) -> bool:
        reports.append(update)
        return False

    far = time.monotonic() + 300
    deadlines = Deadlines(far, far)
    with SearchPool(
        data, allowed, deadlines, 10_000, workers=2, seed=1, progress=progress, steady=deadlines
    ) as pool:
        (other,) = pool.first_runs()
        steady = pool.steady_run(now=False)
    assert other.found and steady is not None and steady.found
    assert 51 + 1 <= len(reports) < 51 + 40


def test_a_steady_search_goes_on_while_the_other_process_takes_a_task() -> None:
    """The steady search runs to its own later deadline, the idle process takes the task,
    and the steady run, ending during the task, waits until it is asked for."""
    data = thirty_visits()
    allowed = eligibility(data).allowed
    limits: list[float] = []

    def progress(update: Progress) -> bool:
        limits.append(update.time_limit_s)
        return False

    start = time.monotonic()
    first, steady = Deadlines(start + 5, start + 5), Deadlines(start + 8, start + 8)
    with SearchPool(
        data, allowed, first, None, workers=2, seed=3, progress=progress, steady=steady
    ) as pool:
        (run,) = pool.first_runs()
        visits = {visit: list(crews) for visit, crews in allowed.items()}
        task = Task(visits, run.routes, start + 11, 5, True)
        (improved,) = pool.improve([task])
        steady_run = pool.steady_run(now=False)
        assert pool.steady_run(now=False) is None  # taken once
    assert run.found and improved is not None and improved.found
    assert steady_run is not None and steady_run.found
    assert max(limits) > 5.5  # only the steady search had more than 5 s

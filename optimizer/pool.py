"""Genetic searches in processes of their own, one per core, kept for several rounds.

Each process first runs a search of the whole day with its own seed. It then stays alive
for further tasks (improving one part of a plan, see optimizer.decompose), so the day's
matrices cross into it once and no round pays for starting a process.

The first process may instead search steadily: its first search goes on to a later deadline
unless it is cut short, so a day that is best searched whole keeps one search that never
restarts (a restarted search loses what it learnt, its acceptance history and penalties)
and never gives up for want of improvement.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from multiprocessing.synchronize import Event
from typing import Any

from optimizer.data import LOADS, ProblemData
from optimizer.engine import EngineRun, Progress, ProgressCallback
from optimizer.hgs import solve_with_hgs

# Share of its time a search for everyone gets to find such a plan before it turns optional.
REQUIRED_PROBE_SHARE = 0.25
FIRST_PROBE_SHARE = 0.10


@dataclass(frozen=True)
class Deadlines:
    """When genetic searches must end (time.monotonic() instants).

    A search with optional visits stops early enough for OR-Tools to polish its plan; a
    search that finds a plan serving everyone needs no polish, so it searches on to the end.
    """

    optional: float
    everyone: float


@dataclass(frozen=True)
class Task:
    """Improve `initial` over the visits of `allowed` until `deadline`; a search that has
    found no feasible plan after `give_up_s` seconds ends then, if given."""

    allowed: dict[int, list[int]]
    initial: dict[int, list[int]]
    deadline: float
    seed: int
    required: bool
    give_up_s: float | None = None


def search(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    deadlines: Deadlines,
    iterations: int | None,
    seed: int,
    required: bool,
    report: ProgressCallback | None,
    give_up_share: float = REQUIRED_PROBE_SHARE,
    *,
    tireless: bool = False,
) -> EngineRun:
    """One genetic search of the whole day with the portfolio's stopping rules.

    A search for everyone that finds no such plan within a share of its time is an
    over-full day: it continues as an optional search instead of wasting its core.
    A `tireless` search does not stop for want of improvement, only at its deadline.
    """
    deadline = deadlines.everyone if required else deadlines.optional
    run = solve_with_hgs(
        data,
        allowed,
        deadline=deadline,
        seed=seed,
        max_iterations=iterations,
        no_improvement=None if tireless else patience(len(allowed)),
        report=report,
        required=required,
        give_up_after_s=(
            (deadlines.optional - time.monotonic()) * give_up_share if required else None
        ),
    )
    if run.found or not required:
        return run
    fallback = search(
        data, allowed, deadlines, iterations, seed + 1, False, report, tireless=tireless
    )
    return replace(fallback, status=f"{fallback.status} (no plan serves everyone)")


def patience(visits: int) -> int:
    """Iterations without improvement before a search gives up: quick on small days only."""
    return max(2_000, 40 * visits)


def fits_the_fleet(data: ProblemData, allowed: Mapping[int, Sequence[int]]) -> bool:
    """Whether the day's loads fit the fleet's capacities at all: worth asking for everyone."""
    visits = [data.visits[v] for v in allowed]
    return all(
        sum(amount(v) for v in visits) <= sum(cap(c) for c in data.vehicles)
        for amount, cap in LOADS
    )


def child(
    data: ProblemData,
    allowed: Mapping[int, Sequence[int]],
    deadlines: Deadlines,
    iterations: int | None,
    seed: int,
    give_up_share: float | None,
    out: Any,
    stop: Event,
    inbox: Any = None,
    index: int = 0,
    cut: Event | None = None,
    steady: bool = False,
) -> None:
    """A search process: the whole day first (until `cut`, if given, is set), then each
    Task from `inbox` until None.

    A `steady` first search is tireless: it is the search the day keeps when nothing beats
    it, and PyVRP's path can improve again after a long stall. On Gehring-Homberger C1_10_5
    PyVRP alone found its last, better plan 43,730 iterations after the one before (seed 0,
    60 s, measured), past the 40,000 a search of 1,000 visits waits (patience), so a steady
    search that gave up ended 1.7 above PyVRP every run."""

    def report(update: Progress) -> bool:
        out.put(("progress", index, update))
        return stop.is_set() or (cut is not None and cut.is_set())

    try:
        required = give_up_share is not None
        share = give_up_share or 0.0
        run = search(
            data, allowed, deadlines, iterations, seed, required, report, share, tireless=steady
        )
        out.put(("run", index, run))
        while inbox is not None and (task := inbox.get()) is not None:
            out.put(("run", index, _improve(data, task, stop)))
    except BaseException as error:  # the parent must hear how every child ended
        out.put(("error", index, f"{type(error).__name__}: {error}"))


def _fed_child(days: Any, **arguments: Any) -> None:
    """`child`, taking the day from the `days` queue first: a day's matrices as arguments
    would hold Process.start() until the process had imported its modules and read them
    (0.25 s a process, measured), so the processes would start one after the other."""
    data, allowed = days.get()
    child(data, allowed, **arguments)


def _improve(data: ProblemData, task: Task, stop: Event) -> EngineRun:
    return solve_with_hgs(
        data,
        task.allowed,
        deadline=task.deadline,
        seed=task.seed,
        no_improvement=patience(len(task.allowed)),
        report=lambda _: stop.is_set(),
        required=task.required,
        initial=task.initial,
        give_up_after_s=task.give_up_s,
    )


def _time_ratio(deadlines: Deadlines, steady: Deadlines | None) -> float:
    """How much of a steady search's time the others' first searches take."""
    now = time.monotonic()
    if steady is None or steady.optional <= now:
        return 1.0
    return max(0.0, min(1.0, (deadlines.optional - now) / (steady.optional - now)))


class SearchPool:
    """One search process per worker; use as a context manager so they always end."""

    def __init__(
        self,
        data: ProblemData,
        allowed: Mapping[int, Sequence[int]],
        deadlines: Deadlines,
        iterations: int | None,
        *,
        workers: int,
        seed: int,
        progress: ProgressCallback | None,
        steady: Deadlines | None = None,
    ) -> None:
        """`steady`: when the first process's first search ends, unless cut (steady_run)."""
        context = mp.get_context("spawn")  # no fork: the caller may hold threads and connections
        self.progress = progress
        self.stopped = False
        self.failures: list[str] = []
        self._out = context.Queue()
        self._stop = context.Event()
        self._cut = context.Event()
        self._inboxes = [context.Queue() for _ in range(workers)]
        # One queue carries a copy of the day for each process: its one feeder thread holds
        # one pickled day at a time (400 MB at 5,000 visits), where a queue per process
        # would hold them all at once.
        self._days = context.Queue()
        self._steady = steady is not None
        # When the loads fit, every search asks for everyone: a narrower and stronger search.
        # The first gives up sooner on a day that turns out over-full, so such a day still
        # gets most of one core's time for a search with optional visits; a steady search
        # gives up at the same moment, so its share shrinks as its time grows.
        everyone = fits_the_fleet(data, allowed)
        first_share = FIRST_PROBE_SHARE * _time_ratio(deadlines, steady)
        self._children = [
            context.Process(
                target=_fed_child,
                kwargs={
                    "days": self._days,
                    "deadlines": (steady or deadlines) if k == 0 else deadlines,
                    "iterations": iterations,
                    "seed": seed + k,
                    "give_up_share": (
                        (REQUIRED_PROBE_SHARE if k else first_share) if everyone else None
                    ),
                    "out": self._out,
                    "stop": self._stop,
                    "inbox": self._inboxes[k],
                    "index": k,
                    "cut": self._cut if k == 0 else None,
                    "steady": k == 0 and self._steady,
                },
            )
            for k in range(workers)
        ]
        day = (data, dict(allowed))
        for process in self._children:
            process.start()
            self._days.put(day)
        self._alive = set(range(workers))
        self._searching = set(range(workers))  # still on their first search
        self._early: dict[int, EngineRun] = {}  # runs that came while waiting for others

    @property
    def size(self) -> int:
        return len(self._alive)

    def first_runs(self) -> list[EngineRun]:
        """Each process's search of the whole day, once all have ended, but the steady one's."""
        first = self._searching - {0} if self._steady else self._searching
        return list(self._collect(first).values())

    def steady_run(self, *, now: bool) -> EngineRun | None:
        """The steady search's run (None: it failed), cut short first if `now`."""
        if 0 not in self._searching | set(self._early):
            return None  # not steady, or its run was taken already
        if now:
            self._cut.set()
        return self._collect({0}).get(0)

    def improve(self, tasks: Sequence[Task]) -> list[EngineRun | None]:
        """Hand one task to each live process not on its first search; their runs in task
        order (None: it failed)."""
        workers = sorted(self._alive - self._searching - set(self._early))[: len(tasks)]
        for worker, task in zip(workers, tasks, strict=False):
            self._inboxes[worker].put(task)
        runs = self._collect(set(workers))
        return [runs.get(worker) for worker in workers]

    def _collect(self, workers: set[int]) -> dict[int, EngineRun]:
        waiting = set(workers) & self._alive
        runs = {worker: self._early.pop(worker) for worker in workers if worker in self._early}
        waiting -= set(runs)
        while waiting:
            try:
                kind, worker, payload = self._out.get(timeout=1.0)
            except queue.Empty:
                for worker in [w for w in waiting if not self._children[w].is_alive()]:
                    waiting.discard(worker)
                    self._alive.discard(worker)
                    self._searching.discard(worker)
                    self.failures.append(f"search process {worker} ended without a result")
                continue
            if kind == "run":
                self._searching.discard(worker)
                if worker in waiting:
                    runs[worker] = payload
                    waiting.discard(worker)
                else:
                    self._early[worker] = payload
            elif kind == "error":
                self.failures.append(payload)
                waiting.discard(worker)
                self._alive.discard(worker)
                self._searching.discard(worker)
            elif self.progress is not None and self.progress(payload):
                self.stopped = True
                self._stop.set()
        return runs

    def __enter__(self) -> SearchPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for inbox in self._inboxes:
            inbox.put(None)
        # A process that died before reading its day leaves the day in the pipe; the caller
        # must not wait on that at its own exit.
        self._days.cancel_join_thread()
        for process in self._children:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        self._out.close()

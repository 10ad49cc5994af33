"""solve() in a child process, so a long search never stalls the caller's threads.

OR-Tools keeps Python's interpreter lock for the whole search; a service that solved in a
thread would stop answering requests until the plan is done. The child reports progress
through a queue and stops when the caller's callback asks it to, exactly like solve().
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from collections.abc import Mapping, Sequence
from multiprocessing.synchronize import Event
from typing import Any

from optimizer.data import ProblemData
from optimizer.engine import Progress, ProgressCallback
from optimizer.params import SolveParams
from optimizer.result import Result
from optimizer.solve import solve
from optimizer.tracking import Tracker

# The caller hears from the search at least this often, even while no better plan is found,
# so cancelling never waits for the next improvement.
POLL_S = 0.5


def _child(
    data: ProblemData,
    params: SolveParams,
    seed: int,
    initial_routes: Mapping[str, Sequence[str]] | None,
    updates: Any,
    stop: Event,
    deadline: float,
    niceness: int,
) -> None:
    if niceness:
        os.nice(niceness)  # before the search starts its own processes, which inherit it

    def report(progress: Progress) -> bool:
        updates.put(("progress", progress))
        return stop.is_set()

    try:
        result = solve(
            data,
            params,
            seed=seed,
            initial_routes=initial_routes,
            progress=report,
            deadline=deadline,
        )
        updates.put(("result", result))
    except BaseException as error:  # the parent must always hear how the child ended
        updates.put(("error", f"{type(error).__name__}: {error}"))


def solve_isolated(
    data: ProblemData,
    params: SolveParams | None = None,
    *,
    seed: int = 0,
    initial_routes: Mapping[str, Sequence[str]] | None = None,
    progress: ProgressCallback | None = None,
    niceness: int = 0,
) -> Result:
    """Same contract as solve(); a crash of the child raises RuntimeError.

    `niceness` lowers the priority of the search's processes, so a service solving in the
    background keeps answering its requests first; the search gets every idle cycle.
    """
    params = params or SolveParams()
    # Starting the process and sending it the day count against the caller's time limit.
    deadline = time.monotonic() + params.time_limit_s
    context = mp.get_context("spawn")  # no fork: the caller may hold threads and connections
    updates = context.Queue()
    stop = context.Event()
    # Not a daemon: the solve may start its own search processes, one per core.
    child = context.Process(
        target=_child, args=(data, params, seed, initial_routes, updates, stop, deadline, niceness)
    )
    child.start()
    latest = Progress(0.0, params.time_limit_s, 0, 0)
    # The child's reports are already steady; this one keeps the clock running while it is
    # silent (reading the day, building a model), when the last report is sent again.
    if progress is not None:
        progress = Tracker(progress, params.time_limit_s, deadline - params.time_limit_s)
    try:
        while True:
            try:
                kind, payload = updates.get(timeout=POLL_S)
            except queue.Empty:
                if not child.is_alive() and updates.empty():
                    died = f"the solver process died (exit {child.exitcode})"
                    raise RuntimeError(died) from None
                kind, payload = "progress", latest
            if kind == "result":
                return payload  # type: ignore[no-any-return]
            if kind == "error":
                raise RuntimeError(f"the solver failed: {payload}")
            latest = payload
            if progress is not None and progress(latest):
                stop.set()
    finally:
        stop.set()
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
        updates.close()

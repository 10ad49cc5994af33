"""Peak memory of a solver that runs in processes of its own (Linux, from /proc)."""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self


class _Sampler:
    """A thread that calls `sample` every SAMPLE_S while the `with` block runs."""

    SAMPLE_S = 0.2

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.SAMPLE_S):
            self.sample()

    def sample(self) -> None:
        raise NotImplementedError


class PeakMemory(_Sampler):
    """Peak resident memory of everything this process starts while the block runs.

    Our solve is a process that may start search processes of its own, so no single
    high-water mark covers it. A thread sums each live descendant's own high-water mark
    (VmHWM) every SAMPLE_S: an upper bound of their concurrent peak that misses no spike of a
    process still alive at the next sample. RUSAGE_CHILDREN, the kernel's exact peak of the
    largest single descendant, is the floor for processes shorter than a sample; it is the
    maximum over every child ever waited for, hence one fresh `--_one` process per run.
    multiprocessing's resource tracker is bookkeeping of this process, not the solver's.
    """

    def __init__(self) -> None:
        super().__init__()
        self.peak_kb = 0

    def sample(self) -> None:
        total = sum(_high_water_kb(pid) for pid in descendants(os.getpid()))
        self.peak_kb = max(self.peak_kb, total)

    def megabytes(self) -> float | None:
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        peak = max(self.peak_kb, largest)
        return round(peak / 1024, 1) if peak else None


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        parent = _parent(stat)
        if parent is None:
            continue  # the process ended while we looked
        children.setdefault(parent, []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [root]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _parent(stat: Path) -> int | None:
    """The parent pid in a /proc/<pid>/stat file; None once the process has ended."""
    try:  # the name in parentheses may hold spaces; the parent pid follows the state
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _high_water_kb(pid: int) -> int:
    try:
        if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return 0
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "")
    return int(line.split()[1]) if line else 0


SPAWNED = b"multiprocessing.spawn"  # on the command line of every spawned solver process


class SolvePeaks(_Sampler):
    """Each solver process below `roots`: its start and its peak memory, sampled from /proc.

    A planning job solves in one spawned process (optimizer.isolated), wherever it runs: a
    child of the service or of a Ray worker. Its peak is the largest sum of the high-water
    marks (VmHWM) of it and its own search processes seen in a sample, as in PeakMemory.
    `roots` is called at every sample, so a Ray worker started later is found too.
    """

    def __init__(self, roots: Callable[[], list[int]]) -> None:
        super().__init__()
        self.roots = roots
        self.solves: dict[int, dict[str, float]] = {}  # pid -> {"started": s, "peak_mb": MB}

    def sample(self) -> None:
        below = {pid for root in self.roots() for pid in descendants(root)}
        for pid in below:
            if pid in self.solves or _is_solver(pid):
                tree = [pid, *descendants(pid)]
                megabytes = sum(_high_water_kb(p) for p in tree) / 1024
                seen = self.solves.setdefault(pid, {"started": time.time(), "peak_mb": 0.0})
                seen["peak_mb"] = round(max(seen["peak_mb"], megabytes), 1)

    def in_start_order(self) -> list[float]:
        """The peaks in MB, the earliest-started solve first."""
        return [s["peak_mb"] for s in sorted(self.solves.values(), key=lambda s: s["started"])]


def _is_solver(pid: int) -> bool:
    """A spawned process whose parent is not one: the solve, not one of its searches."""
    try:
        if SPAWNED not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False
        parent = _parent(Path(f"/proc/{pid}/stat"))
        return parent is not None and SPAWNED not in Path(f"/proc/{parent}/cmdline").read_bytes()
    except OSError:
        return False

"""Peak memory of a solver that runs in processes of its own (Linux, from /proc)."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path


class PeakMemory:
    """Peak resident memory of everything this process starts while the block runs.

    Our solve is a process that may start search processes of its own, so no single
    high-water mark covers it. A thread sums each live descendant's own high-water mark
    (VmHWM) every SAMPLE_S: an upper bound of their concurrent peak that misses no spike of a
    process still alive at the next sample. RUSAGE_CHILDREN, the kernel's exact peak of the
    largest single descendant, is the floor for processes shorter than a sample; it is the
    maximum over every child ever waited for, hence one fresh `--_one` process per run.
    multiprocessing's resource tracker is bookkeeping of this process, not the solver's.
    """

    SAMPLE_S = 0.2

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE_S):
            total = sum(_high_water_kb(pid) for pid in _descendants(os.getpid()))
            self.peak_kb = max(self.peak_kb, total)

    def megabytes(self) -> float | None:
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        peak = max(self.peak_kb, largest)
        return round(peak / 1024, 1) if peak else None


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:  # the name in parentheses may hold spaces; the parent pid follows the state
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        children.setdefault(parent, []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [root]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


def _high_water_kb(pid: int) -> int:
    try:
        if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return 0
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), "")
    return int(line.split()[1]) if line else 0

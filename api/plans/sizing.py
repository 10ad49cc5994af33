"""What one planning job needs from a machine: cores and memory, from the size of its day.

A cluster scheduler packs jobs by what they ask for, so a job must ask for what it will
peak at: ask too little and two 5,000-visit days share a node that cannot hold them. The
memory model is fitted to measured peaks (benchmarks/README.md, "Memory of one planning
job"); its coefficients live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MemoryModel:
    """Peak resident memory of one solve, in MB: base + per_visit·n + per_pair·n²
    (the day's matrices grow with the square of its stops), times a safety margin."""

    # A job as a service or a Ray worker runs it: its solve and search processes are spawned,
    # and each imports its parent's main module (the service's, some 70 MB) before solving.
    # 200 visits peaked at 255 MB alone (job_memory) and at 473 MB in the service (burst).
    base_mb: float = 400.0
    per_visit_mb: float = 0.1
    per_pair_mb: float = 3.77e-4
    # Halving or doubling the crews of a 500- or 2,000-visit day moved its peak by under 4 %
    # (benchmarks/results/job-memory-20s.json): the visits' matrices dominate.
    per_vehicle_mb: float = 0.0
    # Every measured peak is at most 1.09 of the raw curve (200 visits in the service); 1.2
    # leaves room for run-to-run spread (5 % at 5,000 visits) and searches longer than 20 s.
    margin: float = 1.2

    def peak_mb(self, visits: int, vehicles: int) -> float:
        stops = max(0, visits)
        raw = (
            self.base_mb
            + self.per_visit_mb * stops
            + self.per_pair_mb * stops * stops
            + self.per_vehicle_mb * max(0, vehicles)
        )
        return raw * self.margin

    def peak_bytes(self, visits: int, vehicles: int) -> int:
        return int(self.peak_mb(visits, vehicles) * MB)


MODEL = MemoryModel()


def job_memory_bytes(visits: int, vehicles: int) -> int:
    """The memory a planning job of this size asks a cluster for."""
    return MODEL.peak_bytes(visits, vehicles)

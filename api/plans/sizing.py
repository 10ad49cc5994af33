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

    base_mb: float = 131.6
    per_visit_mb: float = 0.156
    per_pair_mb: float = 3.68e-4
    per_vehicle_mb: float = 0.0
    margin: float = 1.25

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

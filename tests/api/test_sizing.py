"""The memory a planning job asks a cluster for, against the peaks the benchmarks recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.plans.sizing import MB, MODEL, job_memory_bytes

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def _recorded_peaks() -> list[tuple[str, int, int, float]]:
    """(file, visits, vehicles, peak MB) of every solve of ours with a recorded peak: alone
    (job_memory, scale) and as planning jobs of the service, embedded or on Ray (burst)."""
    peaks = []
    for path in sorted(RESULTS.glob("job-memory-*.json")):
        for run in json.loads(path.read_text(encoding="utf-8")):
            peaks.append((path.name, run["visits"], run["vehicles"], run["peak_mb"]))
    for path in sorted(RESULTS.glob("scale-*.json")):
        for run in json.loads(path.read_text(encoding="utf-8")):
            if run["solver"] == "ours" and run.get("peak_mb"):
                vehicles = run["trucks"] + run["technicians"]
                peaks.append((path.name, run["visits"], vehicles, run["peak_mb"]))
    for path in sorted(RESULTS.glob("burst-*.json")):
        for way in json.loads(path.read_text(encoding="utf-8"))["ways"]:
            for job in way["jobs"]:  # no crew term in the model: the crews count as none
                peaks.append((f"{path.name} {way['way']}", job["visits"], 0, job["peak_mb"]))
    return peaks


PEAKS = _recorded_peaks()


def test_peaks_cover_the_sizes_fitted() -> None:
    """The recorded peaks span 100 to 5,000 visits and more than one fleet per size."""
    assert {visits for _, visits, _, _ in PEAKS} >= {100, 200, 500, 1000, 2000, 5000}
    assert len({vehicles for _, visits, vehicles, _ in PEAKS if visits == 2000}) >= 3


@pytest.mark.parametrize(("name", "visits", "vehicles", "peak_mb"), PEAKS)
def test_model_is_above_every_recorded_peak(
    name: str, visits: int, vehicles: int, peak_mb: float
) -> None:
    """A job asks for more than any measured solve of its size ever used."""
    assert MODEL.peak_mb(visits, vehicles) > peak_mb, name


def test_model_never_falls_as_the_day_grows() -> None:
    """More visits or more crews never ask for less memory."""
    sizes = range(0, 20_001, 50)
    asked = [MODEL.peak_mb(visits, 100) for visits in sizes]
    assert asked == sorted(asked)
    by_crews = [MODEL.peak_mb(1000, vehicles) for vehicles in range(0, 2001, 10)]
    assert by_crews == sorted(by_crews)


def test_bytes_are_the_model_in_whole_bytes() -> None:
    """job_memory_bytes is the model's figure in bytes, for Ray's memory resource."""
    assert job_memory_bytes(1000, 86) == int(MODEL.peak_mb(1000, 86) * MB)
    assert job_memory_bytes(-5, -1) == job_memory_bytes(0, 0) > 0

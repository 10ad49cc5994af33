"""Smoke test of the burst benchmark: 2 areas of 10 visits, 1 s each, on PostgreSQL; no timings."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load_service import free_port

ROOT = Path(__file__).resolve().parents[2]
HAS_RAY = importlib.util.find_spec("ray") is not None
# With the Ray runner's tests on one worker: one Ray cluster on this machine at a time.
pytestmark = pytest.mark.xdist_group("ray")


# Session-wide: the Ray tests share this worker, and a module fixture would run again each
# time the order of tests comes back to this module.
@pytest.fixture(scope="session")
def burst(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        message = "PostgreSQL server binaries not installed (apt-get install postgresql)"
        if os.environ.get("DISPATCH_REQUIRE_POSTGRES"):
            pytest.fail(message)  # CI promises a real PostgreSQL run; never skip it silently
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("burst")
    ways = "embedded,ray,sequential" if HAS_RAY else "embedded,sequential"
    argv = ["--areas", "2", "--visits", "10", "--seconds", "1", "--ways", ways]
    argv += ["--ray-port", str(free_port()), "--json", str(folder / "burst.json")]
    argv += ["--plot", str(folder / "burst.png")]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.burst", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (folder / "burst.png").stat().st_size > 0
    record: dict[str, Any] = json.loads((folder / "burst.json").read_text(encoding="utf-8"))
    record["stdout"] = done.stdout
    return record


def _way(burst: dict[str, Any], name: str) -> dict[str, Any]:
    found = [way for way in burst["ways"] if way["way"] == name]
    if not found:
        pytest.skip(f"the {name} way did not run (Ray is not installed)")
    return dict(found[0])


@pytest.mark.parametrize("name", ["embedded", "ray", "sequential"])
def test_every_job_ends_with_one_plan(burst: dict[str, Any], name: str) -> None:
    """Each way plans both areas: every job succeeded on its first attempt and routed visits."""
    jobs = _way(burst, name)["jobs"]
    assert sorted(job["area"] for job in jobs) == ["b00-chengdu", "b01-pudong"]
    assert [(job["status"], job["attempts"]) for job in jobs] == [("succeeded", 1)] * 2
    assert all(job["served"] and job["km"] for job in jobs)


@pytest.mark.parametrize("name", ["embedded", "ray", "sequential"])
def test_each_job_has_its_times_and_peak(burst: dict[str, Any], name: str) -> None:
    """Queue wait, solve time and a peak memory are reported for every job, and a makespan."""
    way = _way(burst, name)
    assert way["makespan_s"] > 0
    for job in way["jobs"]:
        assert job["wait_s"] >= 0 and job["solve_s"] > 0
        assert job["peak_mb"] and job["peak_mb"] > 10


def test_sequential_runs_one_after_another(burst: dict[str, Any]) -> None:
    """With one worker thread the second job starts only once the first has finished."""
    first, second = sorted(_way(burst, "sequential")["jobs"], key=lambda job: job["started_at"])
    assert second["started_at"] >= first["finished_at"]


def test_embedded_runs_both_at_once(burst: dict[str, Any]) -> None:
    """With two worker threads both jobs are solving at the same moment."""
    jobs = _way(burst, "embedded")["jobs"]
    assert max(job["started_at"] for job in jobs) < min(job["finished_at"] for job in jobs)


def test_ways_are_compared_per_area(burst: dict[str, Any]) -> None:
    """The report compares the other ways' plans with the embedded runner's, area by area."""
    assert "sequential vs embedded, per area: km ratio" in burst["stdout"]

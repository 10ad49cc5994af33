"""Smoke test of the burst benchmark: 2 areas of 10 visits, 1 s each, on PostgreSQL; no timings.

The embedded and sequential ways run in the main pass of `make test`; the Ray way starts a
Ray cluster, so it runs apart, in the cluster pass, with the Ray runner's tests.
"""

from __future__ import annotations

import fcntl
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
# Ways that run together in one benchmark run, by the name of their run.
RUNS = {"local": "embedded,sequential", "ray": "ray"}
EVERY_RUN = ["local", pytest.param("ray", marks=pytest.mark.cluster)]


def _record(tmp_path_factory: pytest.TempPathFactory, run: str) -> dict[str, Any]:
    """The run's record, made once per test session even when its tests land on several
    xdist workers: the first one to take the lock runs it, the others read it."""
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        message = "PostgreSQL server binaries not installed (apt-get install postgresql)"
        if os.environ.get("DISPATCH_REQUIRE_POSTGRES"):
            pytest.fail(message)  # CI promises a real PostgreSQL run; never skip it silently
        pytest.skip(message)
    if run == "ray" and not HAS_RAY:
        pytest.skip("the ray way did not run (Ray is not installed)")
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"burst-{run}"
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "burst.json").exists():
            _run(folder, RUNS[run])
    return dict(json.loads((folder / "burst.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def local_burst(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The embedded and sequential ways, one run."""
    return _record(tmp_path_factory, "local")


@pytest.fixture(scope="session")
def ray_burst(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Ray way, with the cluster it starts: tests using it are marked `cluster`."""
    return _record(tmp_path_factory, "ray")


@pytest.fixture(params=EVERY_RUN)
def burst(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each run's record in turn: every way of the benchmark."""
    return dict(request.getfixturevalue(f"{request.param}_burst"))


def _run(folder: Path, ways: str) -> None:
    argv = ["--areas", "2", "--visits", "10", "--seconds", "1", "--ways", ways]
    argv += ["--ray-port", str(free_port()), "--json", str(folder / "run.json")]
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
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert [way["way"] for way in record["ways"]] == ways.split(",")
    record["stdout"] = done.stdout
    (folder / "burst.json").write_text(json.dumps(record), encoding="utf-8")


def _way(burst: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [way for way in burst["ways"] if way["way"] == name]
    return dict(found)


def test_every_job_ends_with_one_plan(burst: dict[str, Any]) -> None:
    """Each way plans both areas: every job succeeded on its first attempt and routed visits."""
    for way in burst["ways"]:
        jobs = way["jobs"]
        assert sorted(job["area"] for job in jobs) == ["b00-chengdu", "b01-pudong"]
        assert [(job["status"], job["attempts"]) for job in jobs] == [("succeeded", 1)] * 2
        assert all(job["served"] and job["km"] for job in jobs), way["way"]


def test_each_job_has_its_times_and_peak(burst: dict[str, Any]) -> None:
    """Queue wait, solve time and a peak memory are reported for every job, and a makespan."""
    for way in burst["ways"]:
        assert way["makespan_s"] > 0
        for job in way["jobs"]:
            assert job["wait_s"] >= 0 and job["solve_s"] > 0
            assert job["peak_mb"] and job["peak_mb"] > 10, way["way"]


@pytest.mark.cluster
def test_ray_way_ran_on_the_cluster(ray_burst: dict[str, Any]) -> None:
    """The Ray way ran against the cluster it started, with one core a task."""
    settings = _way(ray_burst, "ray")["settings"]
    assert settings["DISPATCH_RAY_ADDRESS"].startswith("127.0.0.2:")
    assert settings["DISPATCH_RAY_TASK_CPUS"] == "1"


def test_sequential_runs_one_after_another(local_burst: dict[str, Any]) -> None:
    """With one worker thread the second job starts only once the first has finished."""
    jobs = _way(local_burst, "sequential")["jobs"]
    first, second = sorted(jobs, key=lambda job: job["started_at"])
    assert second["started_at"] >= first["finished_at"]


def test_embedded_runs_both_at_once(local_burst: dict[str, Any]) -> None:
    """With two worker threads both jobs are solving at the same moment."""
    jobs = _way(local_burst, "embedded")["jobs"]
    assert max(job["started_at"] for job in jobs) < min(job["finished_at"] for job in jobs)


def test_ways_are_compared_per_area(local_burst: dict[str, Any]) -> None:
    """The report compares the other ways' plans with the embedded runner's, area by area."""
    assert "sequential vs embedded, per area: km ratio" in local_burst["stdout"]

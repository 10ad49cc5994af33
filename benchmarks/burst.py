"""15:00 at a chain: A areas of V visits each queued at once, planned three ways.

    python -m benchmarks.burst --areas 8 --visits 200 --seconds 20 \\
        --json burst.json --plot burst.png

The areas' days come from the chain fixture's generator, alternating Chengdu's and Pudong's
territories, each area with its own depots, trucks and crews. For every way a throwaway
PostgreSQL database and the real service (`dispatch serve` in a child process) are started,
the areas loaded and booked through the API, and one planning job per area queued at once:

- embedded: the service's own child-process runner, DISPATCH_WORKER_THREADS=2 (this machine's
  cores);
- ray: a real local Ray cluster of a head and one worker node (benchmarks.ray_cluster), one
  CPU each, DISPATCH_RAY_ADDRESS set, DISPATCH_RAY_TASK_CPUS=1 and DISPATCH_RAY_MAX_JOBS=2;
- sequential: the embedded runner with one worker thread, the jobs one after another.

Each job's queue wait and solve time come from its row (created_at, started_at, finished_at);
its peak memory from /proc (benchmarks.memory.SolvePeaks: every solve is one spawned process,
under the service or under a Ray worker, matched to the jobs in the order they started).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from api.demo import load_fleet, order_body
from benchmarks.load_service import ADMIN_KEY, database, ok, running_server
from benchmarks.memory import SolvePeaks
from benchmarks.scale import fleet_for
from fixtures import catalogue as cat
from fixtures.chain import DATE, TIMEZONE
from fixtures.generator import Json, generate_day

Record = dict[str, Any]
WAYS = ("embedded", "ray", "sequential")
TERRITORIES = ("chengdu", "pudong")  # two cities, each with two warehouses to split
LEAD_DAYS = 5  # past the booking lead time on any clock of the day
POLL_S = 0.5
STATS_FLUSH_S = 2.0  # backends report their counts to pg_stat_database within a second


def area_day(number: int, visits: int, seed: int) -> tuple[str, Json]:
    """Area `number`'s code and day: a generated day of its territory, every code its own."""
    territory = TERRITORIES[number % len(TERRITORIES)]
    prefix = f"B{number:02d}-"
    fleet = fleet_for(visits)
    day = generate_day(
        seed=seed + number,
        visits=visits,
        trucks=fleet["trucks"],
        technicians=fleet["technicians"],
        date=DATE,
        depots=2,
        city=cat.CITIES[territory],
        prefix=prefix,
    )
    # Areas of one territory share its warehouses' codes; a chain's depots need their own.
    for depot in day["depots"]:
        depot["id"] = prefix + depot["id"]
    for vehicle in day["vehicles"]:
        vehicle["depot"] = prefix + vehicle["depot"]
    return f"b{number:02d}-{territory}", day


def load_areas(api: httpx.Client, days: dict[str, Json], on: dt.date, say: Say) -> None:
    """Every area, its fleet and crews on `on`, and its orders, each naming its area."""
    for code, day in days.items():
        body = {"code": code, "name": code, "city": day["city"], "timezone": TIMEZONE}
        ok(api.post("/areas", json=body))
        load_fleet(api, day, on, area=code)
        for visit in day["visits"]:
            ok(api.post("/orders", json=order_body(visit, on) | {"area": code}))
        say(f"  loaded {code}: {len(day['visits'])} orders, {len(day['vehicles'])} vehicles")


def queue_all(
    api: httpx.Client, codes: Sequence[str], on: dt.date, seconds: float, seed: int
) -> list[Record]:
    """One planning job per area, queued back to back."""
    body = {"date": on.isoformat(), "time_limit_s": seconds, "seed": seed}
    return [dict(ok(api.post("/plans", json=body | {"area": code}))) for code in codes]


def wait_all(api: httpx.Client, jobs: list[Record], way: str, say: Say) -> list[Record]:
    """Poll until every job has ended; a line of where they stand every five seconds."""
    started, next_say = time.monotonic(), 0.0
    while any(job["status"] in ("queued", "running") for job in jobs):
        time.sleep(POLL_S)
        jobs = [dict(ok(api.get(f"/plans/jobs/{job['id']}"))) for job in jobs]
        if (wall := time.monotonic() - started) >= next_say:
            next_say = wall + 5
            counts = Counter(job["status"] for job in jobs)
            standing = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            say(f"  [{way}] {wall:5.0f} s: {standing}")
    return jobs


def database_writes(url: str) -> dict[str, int]:
    """The database's running totals of committed transactions and rows written."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted"
                    " FROM pg_stat_database WHERE datname = current_database()"
                )
            ).one()
    finally:
        engine.dispose()
    return dict(zip(("commits", "inserted", "updated", "deleted"), map(int, row), strict=True))


def job_record(api: httpx.Client, job: Record, peak_mb: float | None) -> Record:
    """What a job's row and its plan say: times, attempts, km, visits served."""
    created = dt.datetime.fromisoformat(job["created_at"])
    begun, ended = (
        dt.datetime.fromisoformat(job[key]) if job[key] else None
        for key in ("started_at", "finished_at")
    )
    plan = ok(api.get(f"/plans/{job['plan_id']}")) if job["plan_id"] else {"kpis": {}}
    return {
        "job": job["id"],
        "area": job["area_code"],
        "status": job["status"],
        "attempts": job["attempts"],
        "wait_s": round((begun - created).total_seconds(), 2) if begun else None,
        "solve_s": round((ended - begun).total_seconds(), 2) if begun and ended else None,
        "created_at": job["created_at"],
        "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "km": plan["kpis"].get("distance_km"),
        "served": plan["kpis"].get("visits_routed"),
        "visits": plan["kpis"].get("visits_total"),
        "peak_mb": peak_mb,
    }


def summary(way: str, jobs: Sequence[Record], settings: dict[str, str]) -> Record:
    """The way's makespan, from the first job queued to the last one finished."""
    first = min(dt.datetime.fromisoformat(job["created_at"]) for job in jobs)
    ends = [dt.datetime.fromisoformat(job["finished_at"]) for job in jobs if job["finished_at"]]
    peaks = [job["peak_mb"] for job in jobs if job["peak_mb"]]
    return {
        "way": way,
        "settings": settings,
        "makespan_s": round((max(ends) - first).total_seconds(), 1) if ends else None,
        "succeeded": sum(job["status"] == "succeeded" for job in jobs),
        "km": round(sum(job["km"] or 0 for job in jobs), 1),
        "served": sum(job["served"] or 0 for job in jobs),
        "mean_wait_s": round(statistics.mean(job["wait_s"] or 0 for job in jobs), 1),
        "mean_solve_s": round(statistics.mean(job["solve_s"] or 0 for job in jobs), 1),
        "max_peak_mb": max(peaks) if peaks else None,
        "jobs": list(jobs),
    }


Say = Callable[[str], None]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def _service(way: str, url: str, threads: int, ray_port: int) -> Iterator[tuple[str, Any]]:
    """The service for `way` (and its Ray cluster); its URL and where its solves run."""
    settings = {"DISPATCH_WORKER_THREADS": str(threads)}
    roots: Callable[[], list[int]] = lambda: [os.getpid()]  # noqa: E731 - the service's tree
    with ExitStack() as stack:
        if way == "ray":
            from benchmarks.ray_cluster import local_cluster

            cluster = stack.enter_context(local_cluster(port=ray_port))
            # As many jobs on the cluster as it has cores, as the embedded way has threads:
            # a job's row then says when it started solving, not when Ray queued it.
            settings |= {
                "DISPATCH_RAY_ADDRESS": cluster.address,
                "DISPATCH_RAY_TASK_CPUS": "1",
                "DISPATCH_RAY_MAX_JOBS": str(threads),
            }
            roots = lambda: [os.getpid(), *cluster.pids()]  # noqa: E731
        yield stack.enter_context(running_server(url, settings)), (settings, roots)


def run_way(way: str, days: dict[str, Json], options: argparse.Namespace, say: Say) -> Record:
    """Load the areas into a fresh database and service, queue every job at once, wait."""
    threads = 1 if way == "sequential" else 2
    on = dt.date.today() + dt.timedelta(days=LEAD_DAYS)
    say(f"[{way}] PostgreSQL, service{' and Ray cluster' if way == 'ray' else ''} starting")
    with database("postgresql") as url, _service(way, url, threads, options.ray_port) as started:
        base, (settings, roots) = started
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=base, headers=admin, timeout=120) as api:
            load_areas(api, days, on, say)
            before = database_writes(url)
            with SolvePeaks(roots) as peaks:
                jobs = queue_all(api, list(days), on, options.seconds, options.seed)
                say(f"  [{way}] queued {len(jobs)} jobs")
                jobs = wait_all(api, jobs, way, say)
            time.sleep(STATS_FLUSH_S)
            after = database_writes(url)
            in_order = sorted(jobs, key=lambda job: (job["started_at"] or "", job["id"]))
            order = (job["id"] for job in in_order)
            memory = dict(zip(order, peaks.in_start_order(), strict=False))
            records = [job_record(api, job, memory.get(job["id"])) for job in jobs]
    result = summary(way, records, settings)
    result["database"] = {key: after[key] - before[key] for key in before}
    say(format_way(result))
    return result


def format_way(result: Record) -> str:
    lines = [
        f"== {result['way']}: makespan {result['makespan_s']} s, "
        f"{result['succeeded']}/{len(result['jobs'])} succeeded, {result['km']:,.1f} km, "
        f"{result['served']} served, peak {result['max_peak_mb']} MB ==",
        "area              wait s  solve s      km  served  peak MB  attempts",
    ]
    if writes := result.get("database"):
        lines.insert(
            1,
            f"database: {writes['commits']:,} commits, {writes['inserted']:,} rows inserted, "
            f"{writes['updated']:,} updated",
        )
    for job in result["jobs"]:
        lines.append(
            f"{job['area']:<16} {_num(job['wait_s']):>7} {_num(job['solve_s']):>8}"
            f" {_num(job['km']):>7} {job['served'] or 0:>7} {_num(job['peak_mb'], 0):>8}"
            f" {job['attempts']:>9}"
        )
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def compare(results: Sequence[Record]) -> list[str]:
    """Each way's plans against the embedded runner's, area by area: km ratio, served."""
    by_way = {r["way"]: {job["area"]: job for job in r["jobs"]} for r in results}
    base = by_way.get("embedded")
    if not base:
        return []
    lines = []
    for way, jobs in by_way.items():
        if way == "embedded":
            continue
        ratios = [jobs[a]["km"] / base[a]["km"] for a in base if jobs[a]["km"] and base[a]["km"]]
        served = [(jobs[a]["served"] or 0) - (base[a]["served"] or 0) for a in base]
        if ratios:
            lines.append(
                f"{way} vs embedded, per area: km ratio {min(ratios):.3f}–{max(ratios):.3f} "
                f"(mean {statistics.mean(ratios):.3f}), served {min(served):+d} to "
                f"{max(served):+d} (total {sum(served):+d})"
            )
    return lines


def plot(results: Sequence[Record], path: str | Path) -> None:
    """Left: every job's queue wait and solve on one clock, per way; right: km per area."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 6))
    row, ticks = 0, []
    for n, result in enumerate(results):
        first = min(dt.datetime.fromisoformat(job["created_at"]) for job in result["jobs"])
        for job in result["jobs"]:
            if not (job["started_at"] and job["finished_at"]):
                continue
            begun = (dt.datetime.fromisoformat(job["started_at"]) - first).total_seconds()
            left.barh(row, job["wait_s"], left=begun - job["wait_s"], color="0.85")
            left.barh(row, job["solve_s"], left=begun, color=f"C{n}")
            ticks.append((row, f"{result['way']} {job['area']}"))
            row += 1
        row += 1
    left.set_yticks([t for t, _ in ticks], [label for _, label in ticks], fontsize=6)
    left.invert_yaxis()
    left.set(xlabel="seconds since the first job was queued", title="queued (grey), solving")
    areas = [job["area"] for job in results[0]["jobs"]]
    width = 0.8 / len(results)
    for n, result in enumerate(results):
        km = {job["area"]: job["km"] or 0 for job in result["jobs"]}
        xs = [k + n * width for k in range(len(areas))]
        right.bar(xs, [km[a] for a in areas], width, color=f"C{n}", label=result["way"])
    right.set_xticks([k + width for k in range(len(areas))], areas, rotation=45, fontsize=7)
    right.set(ylabel="plan km", title="each area's plan, per way")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.burst",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--areas", type=int, default=8, help="areas planned at once")
    parser.add_argument("--visits", type=int, default=200, help="visits of each area's day")
    parser.add_argument("--seconds", type=float, default=20.0, help="each job's time limit")
    parser.add_argument("--seed", type=int, default=7, help="day generator and solver seed")
    parser.add_argument("--ways", default=",".join(WAYS), help="embedded, ray, sequential")
    parser.add_argument("--ray-port", type=int, default=27379, help="the Ray head's port")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--plot", help="write a PNG: the jobs on one clock, km per area")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    ways = [way.strip() for way in options.ways.split(",")]
    if unknown := [way for way in ways if way not in WAYS]:
        parser.error(f"--ways: unknown way {unknown[0]!r}; use {', '.join(WAYS)}")
    if options.areas < 1 or options.visits < 10:
        parser.error("--areas must be at least 1 and --visits at least 10")
    days = dict(area_day(n, options.visits, options.seed) for n in range(options.areas))
    results = [run_way(way, days, options, _say) for way in ways]
    for line in compare(results):
        print(line, flush=True)
    head = {key: getattr(options, key) for key in ("areas", "visits", "seconds", "seed")}
    if options.json:
        text = json.dumps({**head, "ways": results}, indent=1) + "\n"
        Path(options.json).write_text(text, encoding="utf-8")
    if options.plot:
        plot(results, options.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())

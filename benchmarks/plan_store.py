"""How long storing one area's plan takes on PostgreSQL, and how many rows it writes.

    python -m benchmarks.plan_store [--visits 300] [--seconds 5] [--repeats 10]

One area of V visits (benchmarks.burst's first area) is loaded through the real service on
a throwaway PostgreSQL, and planned once by the service. The day is then solved again here
and stored with the runner's own `store_plan`, in one transaction as the runner does, REPEATS
times; the time of each transaction, from its first statement to its commit, and the rows it
inserted (PostgreSQL's own count, pg_stat_xact_user_tables) are reported. The service is
stopped first, so nothing else writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from api.areas.scope import local_settings
from api.core.config import ServiceSettings
from api.plans.model_input import planning_input
from api.plans.models import PlanJob
from api.plans.service import store_plan
from benchmarks.burst import LEAD_DAYS, area_day, load_areas
from benchmarks.load_service import ADMIN_KEY, database, ok, running_server, wait_for
from optimizer.horizon import first_day
from optimizer.isolated import solve_isolated
from optimizer.params import SolveParams

XACT_INSERTS = "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_xact_user_tables"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def measure(visits: int, seconds: float, repeats: int, seed: int) -> dict[str, Any]:
    code, day = area_day(0, visits, seed)
    on = dt.date.today() + dt.timedelta(days=LEAD_DAYS)
    with database("postgresql") as url:
        with running_server(url) as base:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            with httpx.Client(base_url=base, headers=admin, timeout=120) as api:
                load_areas(api, {code: day}, on, _say)
                body = {"date": on.isoformat(), "area": code, "time_limit_s": seconds}
                job_id = wait_for(api, ok(api.post("/plans", json=body)))["id"]
        engine = create_engine(url)
        settings = ServiceSettings(database_url=url)
        with Session(engine) as session:
            job = session.get(PlanJob, job_id)
            assert job is not None
            local = local_settings(session=session, settings=settings, area=code)
            planning = planning_input(session=session, date=on, settings=local, area=code)
        solved = solve_isolated(planning.data, SolveParams(time_limit_s=seconds), seed=seed)
        result = planning.with_refused(first_day(planning.data, solved))
        times, rows = [], []
        # A fresh connection per store: PostgreSQL's count of a backend's inserts not yet
        # reported (pg_stat_xact_user_tables) then holds this transaction's alone.
        fresh = create_engine(url, poolclass=NullPool)
        for _ in range(repeats):
            with Session(fresh, expire_on_commit=False) as session:
                session.execute(text("SELECT 1"))  # connected before the clock starts
                started = time.perf_counter()
                store_plan(session=session, job=job, result=result, planning=planning)
                session.flush()
                rows.append(int(session.execute(text(XACT_INSERTS)).scalar_one()))
                session.commit()
                times.append(time.perf_counter() - started)
        fresh.dispose()
        engine.dispose()
    return {
        "visits": visits,
        "routed": result.kpis.visits_routed,
        "store_ms": [round(t * 1000, 1) for t in times],
        "median_ms": round(statistics.median(times) * 1000, 1),
        "rows_inserted": rows,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plan_store", description=__doc__)
    parser.add_argument("--visits", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=5.0, help="the solve's time limit")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    found = measure(options.visits, options.seconds, options.repeats, options.seed)
    print(
        f"{found['visits']} visits, {found['routed']} routed: store median "
        f"{found['median_ms']} ms (each: {found['store_ms']}), rows inserted "
        f"{found['rows_inserted']}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

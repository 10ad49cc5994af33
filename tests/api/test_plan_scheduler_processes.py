"""Two real service processes on one database, both running the scheduler: every area's daily
job is created once. Each process is `dispatch serve` in a child process, as deployed."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

import httpx
from sqlmodel import Session, col, func, select

from api.areas.models import DEFAULT_AREA, AreaCreate, AreaUpdate, ScheduledRun
from api.areas.service import create_area, update_area
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.core.db import make_engine
from api.fleet.models import Depot
from api.plans.models import PlanJob
from api.plans.scheduler import SCHEDULER

ROOT = Path(__file__).resolve().parents[2]
TICK_S = 0.2
# Planning at 00:00 is due whenever the test runs; the zones are a day apart for part of it.
ZONES = {DEFAULT_AREA: "Asia/Shanghai", "fi": "Europe/Helsinki", "ny": "America/New_York"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed_areas(url: str) -> None:
    """The default area and two more, each with a depot, all planning at midnight."""
    settings = ServiceSettings(database_url=url)
    engine = make_engine(url)
    midnight = dt.time(0, 0)
    with Session(engine) as session:
        for code, zone in ZONES.items():
            if code == DEFAULT_AREA:
                change = AreaUpdate(timezone=zone, planning_time=midnight)
                update_area(session=session, settings=settings, code=code, request=change)
            else:
                new = AreaCreate(code=code, name=code, timezone=zone, planning_time=midnight)
                create_area(session=session, settings=settings, request=new)
            session.add(Depot(code=f"WH-{code}", name=code, lat=30.66, lon=104.06, area_code=code))
        session.commit()
    engine.dispose()


@contextmanager
def serving(url: str, log: IO[bytes]) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`dispatch serve` started (not yet up) with the scheduler ticking every TICK_S; the
    process and its base URL. Stopped afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DISPATCH_RUN_SCHEDULER": "true",
        "DISPATCH_SCHEDULER_TICK_S": str(TICK_S),
        "DISPATCH_DEFAULT_PLAN_SECONDS": "1",
        "DISPATCH_MAP_TILES": "none",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    port = _free_port()
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_up(server: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the service exited: {text_of(log)[-3000:]}"
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the service did not answer within 60 s: {text_of(log)[-3000:]}")


def text_of(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")


def tomorrows() -> set[tuple[str, dt.date]]:
    clock = Clock("UTC")
    return {(code, clock.today_in(zone) + dt.timedelta(days=1)) for code, zone in ZONES.items()}


def scheduled(url: str) -> tuple[list[tuple[str, dt.date]], dict[tuple[str, dt.date], int]]:
    """The ScheduledRun rows, and the scheduler's jobs counted by area and date."""
    engine = make_engine(url)
    with Session(engine) as session:
        runs = [(r.area_code, r.date) for r in session.exec(select(ScheduledRun))]
        jobs = session.exec(
            select(PlanJob.area_code, PlanJob.date, func.count())
            .where(col(PlanJob.requested_by) == SCHEDULER)
            .group_by(col(PlanJob.area_code), col(PlanJob.date))
        )
        counted = {(area, date): int(n) for area, date, n in jobs}
    engine.dispose()
    return runs, counted


def test_two_service_processes_create_each_areas_daily_job_once(database_url: str) -> None:
    """Both processes tick ten times and more: each area has one job and one run for tomorrow."""
    seed_areas(database_url)
    expected = tomorrows()
    with tempfile.TemporaryFile() as first, tempfile.TemporaryFile() as second:
        with ExitStack() as both:
            # Started together, so their first ticks (at start-up) race for every area.
            started = [
                (both.enter_context(serving(database_url, log)), log) for log in (first, second)
            ]
            for (server, url), log in started:
                wait_until_up(server, url, log)
            time.sleep(10 * TICK_S)
        logs = [text_of(first), text_of(second)]
    expected |= tomorrows()  # a local midnight passed meanwhile: that area plans the next day too
    runs, jobs = scheduled(database_url)
    assert sorted(runs) == sorted(set(runs)) and set(runs) <= expected
    assert {area for area, _ in runs} == set(ZONES)
    assert jobs == dict.fromkeys(runs, 1)
    for log in logs:
        assert "tick failed" not in log and "IntegrityError" not in log, log[-3000:]

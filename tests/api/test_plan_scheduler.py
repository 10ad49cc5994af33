"""The daily planning per area: due at each area's planning time on its own wall clock, and
created once per area and date however many processes or threads try at the same moment."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from plan_helpers import app_at, engine_of
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from api.areas.models import DEFAULT_AREA, Area, ScheduledRun
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.plans.models import PlanJob
from api.plans.scheduler import SCHEDULER, AutoPlanner, enqueue_scheduled
from api.plans.service import new_job

# 07:30 UTC: 15:30 in Shanghai, 13:30 in Urumqi, 09:30 in Helsinki.
INSTANT = dt.datetime(2026, 11, 24, 7, 30, tzinfo=dt.UTC)
TOMORROW = dt.date(2026, 11, 25)


@pytest.fixture
def chain(settings: ServiceSettings, admin: dict[str, str]) -> Iterator[TestClient]:
    """The service (scheduler off) with areas in three zones besides the default `main`."""
    with app_at(settings, INSTANT) as client:
        for code, zone in (
            ("sh", "Asia/Shanghai"),
            ("xj", "Asia/Urumqi"),
            ("fi", "Europe/Helsinki"),
        ):
            body = {"code": code, "name": code, "timezone": zone}
            answer = client.post("/areas", json=body, headers=admin)
            assert answer.status_code == 201, answer.text
        yield client


def planner(client: TestClient, moment: dt.datetime) -> AutoPlanner:
    app: Any = client.app
    clock = Clock(app.state.settings.timezone, fixed=moment)
    return AutoPlanner(app.state.engine, app.state.settings, clock, app.state.runner)


def scheduled(engine: Engine) -> list[tuple[str, dt.date, str]]:
    """(area, date, requested_by) of every job with a ScheduledRun row, in area order."""
    with Session(engine) as session:
        rows = session.exec(
            select(ScheduledRun.area_code, ScheduledRun.date, PlanJob.requested_by)
            .join(PlanJob, col(PlanJob.id) == col(ScheduledRun.job_id))
            .order_by(col(ScheduledRun.area_code))
        )
        return [(area, date, by) for area, date, by in rows]


def jobs_of(engine: Engine, area: str, date: dt.date) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(PlanJob.area_code == area, PlanJob.date == date)
        return int(session.exec(query).one())


def test_each_area_is_due_at_its_planning_time_on_its_own_clock(chain: TestClient) -> None:
    """At 15:30 in Shanghai its areas are due; Urumqi and Helsinki follow at their own 15:00."""
    assert sorted(planner(chain, INSTANT).tick()) == [(DEFAULT_AREA, TOMORROW), ("sh", TOMORROW)]
    urumqi_afternoon = INSTANT.replace(hour=9, minute=5)  # 15:05 in Urumqi, 11:05 in Helsinki
    assert planner(chain, urumqi_afternoon).tick() == [("xj", TOMORROW)]
    helsinki_afternoon = INSTANT.replace(hour=13, minute=0)  # 15:00 in Helsinki
    assert planner(chain, helsinki_afternoon).tick() == [("fi", TOMORROW)]
    by_area = {area: (date, by) for area, date, by in scheduled(engine_of(chain))}
    assert by_area == {code: (TOMORROW, SCHEDULER) for code in (DEFAULT_AREA, "sh", "xj", "fi")}


def test_tomorrow_is_tomorrow_in_the_areas_zone_and_an_override_binds(
    chain: TestClient, admin: dict[str, str]
) -> None:
    """An area overriding 16:00 waits past 15:00; one planning at 00:00 plans the 26th just after
    midnight in Shanghai, when it is still the 24th in Helsinki and Urumqi, which plan the 25th."""
    for code, at in (("sh", "00:00"), (DEFAULT_AREA, "16:00")):
        answer = chain.patch(f"/areas/{code}", json={"planning_time": at}, headers=admin)
        assert answer.status_code == 200, answer.text
    before = INSTANT.replace(minute=59)  # 15:59 in Shanghai
    assert planner(chain, before).tick() == [("sh", TOMORROW)]  # due since 00:00
    assert planner(chain, INSTANT.replace(hour=8, minute=0)).tick() == [(DEFAULT_AREA, TOMORROW)]
    late = dt.datetime(2026, 11, 24, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 25th in Shanghai
    queued = planner(chain, late).tick()  # 18:30 in Helsinki, 22:30 in Urumqi
    assert sorted(queued) == [("fi", TOMORROW), ("sh", dt.date(2026, 11, 26)), ("xj", TOMORROW)]


def test_a_second_tick_or_process_the_same_day_queues_nothing(chain: TestClient) -> None:
    """Another planner (a restart, a second process) finds the ScheduledRun rows and adds none."""
    first = planner(chain, INSTANT)
    assert first.tick() and first.tick() == []
    later = INSTANT.replace(hour=12)  # 20:00 in Shanghai: a process that was down catches up
    assert planner(chain, later).tick() == [("xj", TOMORROW)]
    assert jobs_of(engine_of(chain), "sh", TOMORROW) == 1


def test_a_duplicate_insert_by_a_concurrent_transaction_rolls_back_quietly(
    chain: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """While another transaction holds the area's run uncommitted, enqueue waits, then its own
    insert fails on the primary key: it adds no job and logs no error."""
    engine: Engine = engine_of(chain)
    settings: ServiceSettings = chain.app.state.settings  # type: ignore[attr-defined]
    outcome: list[bool] = []
    with Session(engine) as other:
        job = new_job(area="sh", date=TOMORROW, settings=settings, requested_by=SCHEDULER)
        other.add(job)
        other.flush()
        other.add(ScheduledRun(area_code="sh", date=TOMORROW, job_id=job.id))
        other.flush()
        thread = threading.Thread(
            target=lambda: outcome.append(
                enqueue_scheduled(engine=engine, settings=settings, area="sh", date=TOMORROW)
            )
        )
        with caplog.at_level(logging.INFO, logger="api.plans.scheduler"):
            thread.start()
            time.sleep(0.5)
            assert thread.is_alive(), "enqueue did not wait for the other transaction"
            other.commit()
            thread.join(30)
    assert outcome == [False]
    assert jobs_of(engine, "sh", TOMORROW) == 1
    said = [r for r in caplog.records if r.name == "api.plans.scheduler"]
    assert [(r.levelno, r.getMessage()) for r in said] == [
        (logging.INFO, f"planning of sh {TOMORROW} already queued by another process")
    ]


def test_threads_racing_for_one_area_and_date_make_one_job(chain: TestClient) -> None:
    """Six threads on their own connections enqueue the same area and date at once: one wins."""
    engine: Engine = engine_of(chain)
    settings: ServiceSettings = chain.app.state.settings  # type: ignore[attr-defined]
    start = threading.Barrier(6)
    results: list[bool] = []

    def race() -> None:
        start.wait()
        results.append(
            enqueue_scheduled(engine=engine, settings=settings, area="fi", date=TOMORROW)
        )

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 5 + [True]
    assert jobs_of(engine, "fi", TOMORROW) == 1
    assert [(a, d) for a, d, _ in scheduled(engine)] == [("fi", TOMORROW)]


def test_one_areas_failure_does_not_hold_up_the_others(
    chain: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """An area whose settings cannot be read (a broken row) is logged; the others are queued."""
    with Session(engine_of(chain)) as session:
        broken = session.get(Area, "sh")
        assert broken is not None
        broken.install_types = {"cabinet": {"minutes": "many"}}  # written past the API's checks
        session.add(broken)
        session.commit()
    with caplog.at_level(logging.ERROR, logger="api.plans.scheduler"):
        assert planner(chain, INSTANT).tick() == [(DEFAULT_AREA, TOMORROW)]
    said = [r.getMessage() for r in caplog.records if r.name == "api.plans.scheduler"]
    assert said == ["automatic planning of sh: not queued; trying again"]


def test_a_job_queued_before_the_upgrade_counts_as_done(chain: TestClient) -> None:
    """A scheduler job made before the upgrade to areas (no ScheduledRun row) is not repeated."""
    engine: Engine = engine_of(chain)
    settings: ServiceSettings = chain.app.state.settings  # type: ignore[attr-defined]
    with Session(engine) as session:
        earlier = new_job(
            area=DEFAULT_AREA, date=TOMORROW, settings=settings, requested_by=SCHEDULER
        )
        session.add(earlier)
        session.commit()
    assert planner(chain, INSTANT).tick() == [("sh", TOMORROW)]
    assert jobs_of(engine, DEFAULT_AREA, TOMORROW) == 1

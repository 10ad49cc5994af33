"""Each area's plan for tomorrow starts by itself at its planning time (15:00 by default),
on the area's own wall clock.

Several service processes may run against one database, and each runs this scheduler. The
database, not a process, decides which of them creates an area's job: the job goes in with
its `ScheduledRun` row (primary key area and date) in one transaction, and a second insert
of that row fails, so the slower process rolls back and creates nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.areas.models import Area, ScheduledRun
from api.areas.service import area_settings, list_areas
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.core.db import transaction
from api.core.ticker import Ticker
from api.plans.models import PlanJob
from api.plans.runner import JobRunner
from api.plans.service import new_job

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"  # requested_by of the jobs it creates


def due_auto_job(
    now: dt.datetime, last_run_date: dt.date | None, *, planning_time: dt.time = dt.time(15, 0)
) -> dt.date | None:
    """The date to plan when the daily run is due: tomorrow, from planning_time, once a day.

    `now` is local time in the area's zone; `last_run_date` is the local date the scheduler
    last enqueued on. Starting after planning_time still plans tomorrow, so a service that was
    down at 15:00 catches up the same day.
    """
    today = now.date()
    if last_run_date is not None and last_run_date >= today:
        return None
    if now.time() < planning_time:
        return None
    return today + dt.timedelta(days=1)


def _done(session: Session, area: str, date: dt.date) -> bool:
    if session.get(ScheduledRun, (area, date)) is not None:
        return True
    # A job queued before the upgrade to areas has no ScheduledRun row; it still counts.
    earlier = select(PlanJob.id).where(
        PlanJob.area_code == area, PlanJob.date == date, PlanJob.requested_by == SCHEDULER
    )
    return session.exec(earlier).first() is not None


def enqueue_scheduled(
    *, engine: Engine, settings: ServiceSettings, area: str, date: dt.date
) -> bool:
    """Queue the scheduler's job of `area` for `date` unless any process did; True when added.

    `settings` are the area's (area_settings). The scheduler queues a date only on the day
    before it, so a ScheduledRun row for it means "already done", whatever a restart forgot.
    """
    try:
        with transaction(engine) as session:
            if _done(session, area, date):
                return False
            job = new_job(area=area, date=date, settings=settings, requested_by=SCHEDULER)
            session.add(job)
            session.flush()
            session.add(ScheduledRun(area_code=area, date=date, job_id=job.id))
            session.flush()
    except IntegrityError:
        with Session(engine) as session:
            if session.get(ScheduledRun, (area, date)) is None:
                raise  # not the race this guards against: a real error
        # Another process committed this area's run between our look and our insert.
        log.info("planning of %s %s already queued by another process", area, date)
        return False
    return True


class AutoPlanner(Ticker):
    """A thread that checks every area's clock each tick and queues its plan for tomorrow."""

    name = "plan-scheduler"

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        clock: Clock,
        runner: JobRunner,
        *,
        tick_s: float | None = None,
    ) -> None:
        super().__init__(tick_s=tick_s or settings.scheduler_tick_s)
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.runner = runner
        self.last_run: dict[str, dt.date] = {}  # area -> its local date last enqueued on

    def tick(self) -> list[tuple[str, dt.date]]:
        """Queue tomorrow's job of every area where it is due; the (area, date) queued."""
        with Session(self.engine, expire_on_commit=False) as session:
            areas = list_areas(session=session)
        queued: list[tuple[str, dt.date]] = []
        for area in areas:
            try:
                done = self._tick_area(area)
            except Exception:
                # One area's failure must not hold up the others; it is tried again next tick.
                log.exception("automatic planning of %s: not queued; trying again", area.code)
                continue
            if done is not None:
                queued.append(done)
        if queued:
            self.runner.wake()
        return queued

    def _tick_area(self, area: Area) -> tuple[str, dt.date] | None:
        local = area_settings(self.settings, area)
        now = self.clock.now_in(area.timezone)
        last = self.last_run.get(area.code)
        date = due_auto_job(now, last, planning_time=local.planning_time)
        if date is None:
            return None
        added = enqueue_scheduled(engine=self.engine, settings=local, area=area.code, date=date)
        self.last_run[area.code] = now.date()
        if not added:
            return None
        log.info("automatic planning of %s for %s queued", area.code, date)
        return area.code, date

"""Tomorrow's plan starts by itself at the planning time (15:00 in the store's time zone)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.engine import Engine
from sqlmodel import select

from api.areas.service import only_area
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.core.db import transaction
from api.core.ticker import Ticker
from api.plans.models import PlanJob
from api.plans.runner import JobRunner
from api.plans.service import new_job

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"  # requested_by of the jobs it creates
TICK_S = 30.0


def due_auto_job(
    now: dt.datetime, last_run_date: dt.date | None, *, planning_time: dt.time = dt.time(15, 0)
) -> dt.date | None:
    """The date to plan when the daily run is due: tomorrow, from planning_time, once a day.

    `now` is local time in the store's zone; `last_run_date` is the local date the scheduler
    last enqueued on. Starting after planning_time still plans tomorrow, so a service that was
    down at 15:00 catches up the same day.
    """
    today = now.date()
    if last_run_date is not None and last_run_date >= today:
        return None
    if now.time() < planning_time:
        return None
    return today + dt.timedelta(days=1)


def enqueue_scheduled(*, engine: Engine, settings: ServiceSettings, date: dt.date) -> bool:
    """Queue the scheduler's job for `date` unless it already did; True when one was added."""
    with transaction(engine) as session:
        # The scheduler queues a date only on the day before it, so "a scheduler job for this
        # date exists" means "already done today", whatever a restart forgot.
        done = session.exec(
            select(PlanJob.id).where(PlanJob.date == date, PlanJob.requested_by == SCHEDULER)
        ).first()
        if done is not None:
            return False
        area = only_area(session=session)
        session.add(new_job(area=area, date=date, settings=settings, requested_by=SCHEDULER))
    return True


class AutoPlanner(Ticker):
    """A thread that checks the clock every TICK_S seconds and queues tomorrow's plan."""

    name = "plan-scheduler"

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        clock: Clock,
        runner: JobRunner,
        *,
        tick_s: float = TICK_S,
    ) -> None:
        super().__init__(tick_s=tick_s)
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.runner = runner
        self.last_run_date: dt.date | None = None

    def tick(self) -> dt.date | None:
        """Queue tomorrow's job if it is due; the date queued, if any."""
        now = self.clock.now()
        date = due_auto_job(now, self.last_run_date, planning_time=self.settings.planning_time)
        if date is None:
            return None
        added = enqueue_scheduled(engine=self.engine, settings=self.settings, date=date)
        self.last_run_date = now.date()
        if not added:
            return None
        log.info("automatic planning of %s queued", date)
        self.runner.wake()
        return date

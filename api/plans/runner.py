"""Planning jobs run off the request path: the plan_job table is the queue.

A job is claimed with one conditional UPDATE, so any number of worker threads or service
processes can share the table without running a job twice. The claim bumps `attempts`, and
every later write of the run is fenced by that number: a runner whose job was re-queued
behind its back (presumed dead) can neither report progress nor store a second plan.
A running job holds a lease that its progress reports renew; runners re-queue only jobs
whose lease has run out, so no process takes over a job another live one is solving.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Update, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from api.areas.scope import local_settings
from api.auth.models import utcnow
from api.core.config import ServiceSettings
from api.core.db import transaction
from api.plan_text import best_so_far
from api.plans.model_input import PlanningInput, planning_input
from api.plans.models import JobStatus, PlanJob
from api.plans.service import store_plan
from optimizer.engine import Progress
from optimizer.horizon import first_day
from optimizer.isolated import solve_isolated
from optimizer.params import SolveParams
from optimizer.result import Result

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a job that keeps taking its process down must not do so forever
PROGRESS_EVERY_S = 1.0
POLL_S = 1.0
STOP_WAIT_S = 30.0
MESSAGE_CHARS = 2000
# Why a job went back to the queue, as its resource and the board say it.
INTERRUPTED = "the service stopped during the run without finishing it (a crash or a kill)"
SHUT_DOWN = "the service was shut down during the run"


class JobRunner(Protocol):
    """What the service needs from whatever runs planning jobs (threads here, a queue later)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""


def _fenced(job_id: int, attempt: int) -> Update:
    """An update that applies only while this run still owns the job."""
    return update(PlanJob).where(
        col(PlanJob.id) == job_id,
        col(PlanJob.status) == JobStatus.RUNNING,
        col(PlanJob.attempts) == attempt,
    )


def claim(engine: Engine, job_id: int) -> int | None:
    """Take a queued job: its attempt number, or None when another runner was first."""
    with engine.begin() as connection:
        taken = connection.execute(
            update(PlanJob)
            .where(col(PlanJob.id) == job_id, col(PlanJob.status) == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                attempts=col(PlanJob.attempts) + 1,
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                progress=0.0,
                message="reading the day",
                visits_routed=None,
                distance_km=None,
            )
        )
        if taken.rowcount != 1:
            return None
        attempt: int = connection.execute(
            select(col(PlanJob.attempts)).where(col(PlanJob.id) == job_id)
        ).scalar_one()
        return attempt


def queued_jobs(engine: Engine, limit: int = 10) -> list[int]:
    """Ids of queued jobs, oldest first."""
    with engine.connect() as connection:
        query = (
            select(col(PlanJob.id))
            .where(col(PlanJob.status) == JobStatus.QUEUED)
            .order_by(col(PlanJob.created_at), col(PlanJob.id))
            .limit(limit)
        )
        return [job_id for job_id in connection.execute(query).scalars() if job_id is not None]


def _requeued(reason: str, message: str) -> dict[str, Any]:
    """A job back in the queue: the re-run counted with its reason, last run's figures cleared."""
    return {
        "status": JobStatus.QUEUED,
        "progress": 0.0,
        "message": message,
        "requeues": col(PlanJob.requeues) + 1,
        "requeue_reason": reason,
        "visits_routed": None,
        "distance_km": None,
    }


def recover_interrupted(engine: Engine, *, lease_s: float = 0.0) -> None:
    """Jobs whose run has not reported for lease_s: re-queue, or give up after MAX_ATTEMPTS.

    Every runner calls it at start and then periodically, so a job of a process that died is
    found by whichever process is alive, while the jobs live processes are solving (they
    report every second) stay theirs. Should a presumed-dead run still be alive after all,
    the fence turns its later writes into no-ops.
    """
    expired = utcnow() - timedelta(seconds=lease_s)
    silent = col(PlanJob.heartbeat_at).is_(None) | (col(PlanJob.heartbeat_at) <= expired)
    running = (col(PlanJob.status) == JobStatus.RUNNING) & silent
    finished = {"finished_at": utcnow(), "cancel_requested": False}
    with engine.begin() as connection:
        connection.execute(
            update(PlanJob)
            .where(running, col(PlanJob.cancel_requested))
            .values(status=JobStatus.CANCELLED, message="cancelled while interrupted", **finished)
        )
        connection.execute(
            update(PlanJob)
            .where(running, col(PlanJob.attempts) >= MAX_ATTEMPTS)
            .values(
                status=JobStatus.FAILED,
                message=f"interrupted {MAX_ATTEMPTS} times (the service stopped during the "
                "run); submit it again",
                **finished,
            )
        )
        connection.execute(
            update(PlanJob)
            .where(running)
            .values(**_requeued(INTERRUPTED, "re-queued after interruption"))
        )


@dataclass(frozen=True)
class _Ticket:
    """What a run needs from its job row, read once after the claim."""

    job: PlanJob
    attempt: int

    @property
    def id(self) -> int:
        assert self.job.id is not None
        return self.job.id


class _Watch:
    """The solve's progress callback: reports, and says when the search should stop."""

    def __init__(self, engine: Engine, ticket: _Ticket, stopping: threading.Event) -> None:
        self.engine = engine
        self.ticket = ticket
        self.stopping = stopping
        self.cancelled = False  # a dispatcher asked to cancel
        self.lost = False  # the job was taken from this run
        self.interrupted = False  # the service is shutting down
        self._next_report = 0.0

    def __call__(self, progress: Progress) -> bool:
        if self.stopping.is_set():
            self.interrupted = True
            return True
        now = time.monotonic()
        if now >= self._next_report:
            self._next_report = now + PROGRESS_EVERY_S
            self._report(progress)
        return self.cancelled or self.lost

    def _report(self, progress: Progress) -> None:
        fraction = min(progress.elapsed_s / progress.time_limit_s, 0.99)
        found = progress.visits_routed > 0
        values = {
            "heartbeat_at": utcnow(),
            "progress": round(fraction, 3),
            "message": f"searching: {best_so_far(progress)}",
            "visits_routed": progress.visits_routed if found else None,
            "distance_km": round(progress.distance_m / 1000, 1) if found else None,
        }
        try:
            with self.engine.begin() as connection:
                written = connection.execute(
                    _fenced(self.ticket.id, self.ticket.attempt).values(**values)
                ).rowcount
                if written != 1:
                    self.lost = True
                    return
                self.cancelled = bool(
                    connection.execute(
                        select(col(PlanJob.cancel_requested)).where(
                            col(PlanJob.id) == self.ticket.id
                        )
                    ).scalar_one()
                )
        except Exception:
            # Raising into the engine would end the search; a missed report costs nothing.
            log.warning("plan job %s: progress report failed", self.ticket.id, exc_info=True)


class InProcessRunner:
    """Worker threads in this process that claim and solve queued jobs."""

    kind = "embedded"

    def __init__(
        self, engine: Engine, settings: ServiceSettings, *, poll_s: float = POLL_S
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def threads(self) -> int:
        return max(1, self.settings.worker_threads)

    def health(self) -> dict[str, Any]:
        """What GET /health says about this runner."""
        return {"kind": self.kind}

    def ready(self) -> bool:
        """Whether jobs can be run now; a runner that cannot leaves them queued."""
        return True

    def idle_wait_s(self) -> float:
        """How long an idle thread waits before looking at the queue again (a wake is sooner)."""
        return self.poll_s

    def start(self) -> None:
        if self._threads:
            return
        self._sweep(force=True)
        self._stopping.clear()
        for number in range(self.threads()):
            thread = threading.Thread(target=self._work, name=f"plan-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Ask running solves to stop (their jobs go back to the queue) and wait for them."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(STOP_WAIT_S)
            if thread.is_alive():
                log.error("%s did not stop within %s s", thread.name, STOP_WAIT_S)
        self._threads = []

    def wake(self) -> None:
        self._wake.set()

    def _sweep(self, *, force: bool = False) -> None:
        """Re-queue the jobs of dead runs, at most every quarter of a lease per process."""
        with self._sweep_lock:
            now = time.monotonic()
            if not force and now < self._next_sweep:
                return
            self._next_sweep = now + self.settings.job_lease_s / 4
        recover_interrupted(self.engine, lease_s=self.settings.job_lease_s)

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before looking, so a job queued meanwhile wakes us again
            try:
                self._sweep()
                ran = self.ready() and self._run_next()
            except Exception:
                log.exception("planning worker: looking for jobs failed; retrying")
                ran = False
            if not ran:
                self._wake.wait(self.idle_wait_s())

    def _run_next(self) -> bool:
        for job_id in queued_jobs(self.engine):
            if self._stopping.is_set():
                return False
            attempt = claim(self.engine, job_id)
            if attempt is not None:
                self.run(job_id, attempt)
                return True
        return False

    def _planning(self, job_id: int) -> tuple[PlanJob, PlanningInput] | None:
        with Session(self.engine) as session:
            job = session.get(PlanJob, job_id)
            if job is None:
                return None
            # The job's area only, under its own slot hours, cash cap and install types.
            local = local_settings(session=session, settings=self.settings, area=job.area_code)
            planning = planning_input(
                session=session, date=job.date, settings=local, area=job.area_code
            )
        return job, planning

    def run(self, job_id: int, attempt: int) -> None:
        """Solve a claimed job and record how it ended; never raises."""
        try:
            found = self._planning(job_id)
            if found is None:
                return
            job, planning = found
            ticket = _Ticket(job=job, attempt=attempt)
            watch = _Watch(self.engine, ticket, self._stopping)
            params = SolveParams(**{**job.params, "time_limit_s": job.time_limit_s})
            niceness = self.settings.planning_niceness
            solved = solve_isolated(
                planning.data, params, seed=job.seed, progress=watch, niceness=niceness
            )
            result = planning.with_refused(first_day(planning.data, solved))
            self._conclude(ticket, watch, result, planning)
        except Exception as error:
            log.exception("plan job %s failed", job_id)
            self._end(job_id, attempt, JobStatus.FAILED, str(error) or type(error).__name__)

    def _conclude(
        self, ticket: _Ticket, watch: _Watch, result: Result, planning: PlanningInput
    ) -> None:
        if watch.lost:
            log.warning("plan job %s was taken over by another runner", ticket.id)
        elif watch.interrupted:
            self._requeue(ticket)
        elif watch.cancelled:
            self._end(ticket.id, ticket.attempt, JobStatus.CANCELLED, "cancelled; no plan stored")
        elif not result.ok:
            why = "; ".join(result.reasons) or f"the solver ended {result.status.value}"
            self._end(ticket.id, ticket.attempt, JobStatus.FAILED, why)
        elif not self._store(ticket, result, planning):
            # The fence refused: a cancel arrived during the solve, or the job was lost.
            self._end(ticket.id, ticket.attempt, JobStatus.CANCELLED, "cancelled; no plan stored")

    def _store(self, ticket: _Ticket, result: Result, planning: PlanningInput) -> bool:
        """The plan, its rows and the job's success in one transaction; False if fenced off."""
        try:
            with transaction(self.engine) as session:
                connection = session.connection()
                # Taking the job row first also makes a concurrent cancel wait for the outcome.
                owned = connection.execute(
                    _fenced(ticket.id, ticket.attempt)
                    .where(col(PlanJob.cancel_requested).is_(False))
                    .values(status=JobStatus.SUCCEEDED, progress=1.0, finished_at=utcnow())
                ).rowcount
                if owned != 1:
                    raise _Fenced
                plan = store_plan(session=session, job=ticket.job, result=result, planning=planning)
                kpis = result.kpis
                connection.execute(
                    update(PlanJob)
                    .where(col(PlanJob.id) == ticket.id)
                    .values(
                        plan_id=plan.id,
                        visits_routed=kpis.visits_routed,
                        distance_km=round(kpis.distance_m / 1000, 1),
                        message=f"plan {plan.id}: {kpis.visits_routed} routed, "
                        f"{kpis.visits_unassigned} unassigned, in {result.seconds:.1f} s",
                    )
                )
        except _Fenced:
            return False
        return True

    def _requeue(
        self,
        ticket: _Ticket,
        reason: str = SHUT_DOWN,
        message: str = "re-queued: the service stopped during the run",
    ) -> None:
        # A clean shutdown (or a lost cluster) is not the job's fault: no attempt used up.
        with self.engine.begin() as connection:
            connection.execute(
                _fenced(ticket.id, ticket.attempt).values(
                    attempts=col(PlanJob.attempts) - 1, **_requeued(reason, message)
                )
            )

    def _end(self, job_id: int, attempt: int, status: JobStatus, message: str) -> None:
        values: dict[str, Any] = {
            "status": status,
            "finished_at": utcnow(),
            "message": message[:MESSAGE_CHARS],
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(_fenced(job_id, attempt).values(**values))
        except Exception:
            # Still running in the table: the next start re-queues it, so it is not lost.
            log.exception("plan job %s: could not record %s", job_id, status.value)


class _Fenced(Exception):
    """The job is no longer this run's to finish."""

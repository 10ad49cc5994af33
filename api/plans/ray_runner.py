"""Planning jobs as Ray tasks: a chain's 15:00 burst runs on a cluster, not on this machine.

The database stays the source of truth: jobs are claimed and fenced exactly as by the
embedded runner, the day is read here, and only the search runs on the cluster. Each task
asks for the cores and memory its day needs (api/plans/sizing.py), so Ray never packs two
big days onto a node that cannot hold them. A small actor per job, kept on this process's
own node, carries the task's progress in and the stop flag out: a worker node's death
cannot take it down, and the thread waiting on the task feeds the same _Watch as the
embedded runner (fenced progress, cancel, lease).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
from datetime import datetime
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayError, RayTaskError, TaskCancelledError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
from sqlalchemy.engine import Engine

from api.auth.models import utcnow
from api.core.config import ServiceSettings
from api.plans.models import JobStatus
from api.plans.runner import POLL_S, InProcessRunner, _Ticket, _Watch
from api.plans.sizing import job_memory_bytes
from optimizer.engine import Progress
from optimizer.horizon import first_day
from optimizer.isolated import solve_isolated
from optimizer.params import SolveParams
from optimizer.result import Result

log = logging.getLogger(__name__)

# A task whose worker or node died runs again elsewhere, this many times, before its job
# fails; the fence makes sure only one run ever stores a plan.
TASK_RETRIES = 3
REPORT_EVERY_S = 1.0  # the task tells the actor at most this often
ACTOR_WAIT_S = 5.0  # a call to the job's actor that takes longer is skipped, not waited on
STOP_GRACE_S = 15.0  # a task asked to stop that has not stopped by then is killed
GB = 1024**3
RECONNECT = "RAY_gcs_rpc_server_reconnect_timeout_s"
YEAR_S = 365 * 24 * 3600
LOST = "the planning cluster was lost during the run"
NOT_ALIVE_S = 2.0  # how long one look at the cluster stands for every waiting thread


@ray.remote(num_cpus=0)
class _JobChannel:
    """The task's progress in, the service's stop flag out."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.stopping = False

    def report(self, progress: Progress) -> bool:
        self.progress = progress
        return self.stopping

    def latest(self) -> Progress | None:
        return self.progress

    def stop(self) -> None:
        self.stopping = True


def _solve_on_worker(data: Any, params: SolveParams, seed: int, channel: Any) -> Result:
    """The task: the search, in a child process as in the service, reporting to the actor."""
    next_report = 0.0
    stopping = False

    def report(progress: Progress) -> bool:
        nonlocal next_report, stopping
        now = time.monotonic()
        if now >= next_report:
            next_report = now + REPORT_EVERY_S
            try:
                stopping = bool(ray.get(channel.report.remote(progress), timeout=ACTOR_WAIT_S))
            except RayError:
                log.warning("the job's channel did not answer; searching on")
        return stopping

    return solve_isolated(data, params, seed=seed, progress=report)


_solve_task = ray.remote(_solve_on_worker)


class _Cluster:
    """The connection to the cluster, tried only from runner threads and with a timeout."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.address = settings.ray_address
        self.timeout_s = settings.ray_connect_timeout_s
        self.reachable = False
        self.since: datetime = utcnow()
        self.error = "not tried yet"
        self._lock = threading.Lock()
        self._checked = 0.0

    def ready(self, *, fresh: bool = False) -> bool:
        with self._lock:
            if not fresh and time.monotonic() - self._checked < NOT_ALIVE_S:
                return self.reachable
            try:
                self._connect()
                self._mark(True, "")
            except Exception as error:
                self._mark(False, str(error) or type(error).__name__)
            self._checked = time.monotonic()
            return self.reachable

    def _connect(self) -> None:
        # A plain socket first: ray.init against a dead address retries for a minute or more.
        host, _, port = self.address.removeprefix("ray://").rpartition(":")
        with socket.create_connection((host, int(port)), timeout=self.timeout_s):
            pass
        if ray.is_initialized() and not self.reachable and self.error != "not tried yet":
            ray.shutdown()  # the cluster is back: the old connection is to the one that went
        if not ray.is_initialized():
            # Ray ends a driver that has lost its cluster for a minute; this process serves
            # requests and must outlive the cluster, keeping the jobs queued until it returns.
            os.environ.setdefault(RECONNECT, str(YEAR_S))
            ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False)

    def _mark(self, reachable: bool, error: str) -> None:
        if reachable != self.reachable:
            self.since = utcnow()
            log_as = log.info if reachable else log.error
            log_as("planning cluster %s %s", self.address, "reachable" if reachable else error)
        self.reachable, self.error = reachable, error


class RayRunner(InProcessRunner):
    """Threads that claim jobs and wait on their Ray tasks; the cluster does the solving."""

    kind = "ray"

    def __init__(
        self, engine: Engine, settings: ServiceSettings, *, poll_s: float = POLL_S
    ) -> None:
        super().__init__(engine, settings, poll_s=poll_s)
        self.cluster = _Cluster(settings)

    def threads(self) -> int:
        return self.settings.ray_max_jobs

    def ready(self) -> bool:
        return self.cluster.ready()

    def idle_wait_s(self) -> float:
        # Dozens of idle threads: together they look at the queue about once per poll, at
        # spread-out moments, rather than each once per poll (the database pays for each).
        return self.poll_s * self.threads() * random.uniform(0.5, 1.5)

    def health(self) -> dict[str, Any]:
        cluster = self.cluster
        return {
            "kind": self.kind,
            "cluster": "reachable" if cluster.reachable else "unreachable",
            "since": cluster.since.isoformat(),
            **({"error": cluster.error} if not cluster.reachable else {}),
        }

    def run(self, job_id: int, attempt: int) -> None:
        """Solve a claimed job on the cluster and record how it ended; never raises."""
        try:
            found = self._planning(job_id)
            if found is None:
                return
            job, planning = found
            ticket = _Ticket(job=job, attempt=attempt)
            watch = _Watch(self.engine, ticket, self._stopping)
            params = SolveParams(**{**job.params, "time_limit_s": job.time_limit_s})
            try:
                solved = self._solve(planning.data, params, job.seed, watch)
            except (TaskCancelledError, _Stopped):
                solved = None  # killed after it was asked to stop: _conclude says why
            except RayTaskError as error:
                raise RuntimeError(str(error.cause) or type(error.cause).__name__) from error
            except RayError as error:
                if not self.cluster.ready(fresh=True) or isinstance(error, GetTimeoutError):
                    log.warning("plan job %s: %s", job_id, error)
                    self._requeue(ticket, LOST, "re-queued: the planning cluster was lost")
                    return
                raise RuntimeError(f"the planning task failed for good: {error}") from error
            if solved is None:
                self._conclude_stopped(ticket, watch)
                return
            result = planning.with_refused(first_day(planning.data, solved))
            self._conclude(ticket, watch, result, planning)
        except Exception as error:
            log.exception("plan job %s failed", job_id)
            self._end(job_id, attempt, JobStatus.FAILED, str(error) or type(error).__name__)

    def _solve(self, data: Any, params: SolveParams, seed: int, watch: _Watch) -> Result:
        cpus = self.settings.ray_task_cpus
        memory = job_memory_bytes(len(data.visits), len(data.vehicles))
        _check_fits(cpus, memory)
        here = ray.get_runtime_context().get_node_id()
        channel = _JobChannel.options(  # type: ignore[attr-defined]
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False)
        ).remote()
        task = _solve_task.options(
            num_cpus=cpus,
            memory=memory,
            max_retries=TASK_RETRIES,
            retry_exceptions=False,
        ).remote(data, params, seed, channel)
        latest = Progress(0.0, params.time_limit_s, 0, 0)
        stop_sent: float | None = None
        try:
            while True:
                done, _ = ray.wait([task], timeout=POLL_S)
                if done:
                    return ray.get(task)  # type: ignore[no-any-return]
                with contextlib.suppress(GetTimeoutError):  # a slow actor: ask again next poll
                    latest = ray.get(channel.latest.remote(), timeout=ACTOR_WAIT_S) or latest
                # Every poll renews the lease, even while the task waits for a free node.
                if watch(latest) and stop_sent is None:
                    channel.stop.remote()
                    stop_sent = time.monotonic()
                    if latest.elapsed_s == 0:  # still waiting for a node: take it off the queue
                        ray.cancel(task)
                if stop_sent is not None and time.monotonic() - stop_sent > STOP_GRACE_S:
                    ray.cancel(task, force=True)
                    raise _Stopped
        finally:
            with contextlib.suppress(Exception):  # gone with the cluster already
                ray.kill(channel)

    def _conclude_stopped(self, ticket: _Ticket, watch: _Watch) -> None:
        if watch.interrupted:
            self._requeue(ticket)
        elif watch.cancelled:
            self._end(ticket.id, ticket.attempt, JobStatus.CANCELLED, "cancelled; no plan stored")


def _check_fits(cpus: float, memory: int) -> None:
    """A task no node can ever hold would wait forever: fail its job now, saying why."""
    for node in ray.nodes():
        resources = node.get("Resources", {})
        cores, room = resources.get("CPU", 0), resources.get("memory", 0)
        if node.get("Alive") and cores >= cpus and room >= memory:
            return
    raise RuntimeError(
        f"no node of the planning cluster has {cpus:g} cores and {memory / GB:.1f} GB "
        "for this day: add bigger nodes or lower DISPATCH_RAY_TASK_CPUS"
    )


class _Stopped(Exception):
    """The task did not stop when asked and was killed."""

"""Planning on a real Ray cluster of two nodes: bursts, a dying node, cancel, leases, outages."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from plan_helpers import DAY, app_at, engine_of
from ray_cluster import HEAD_IP, RayCluster, _free_port
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.auth.models import utcnow
from api.core.config import ServiceSettings
from api.plans.models import JobStatus, Plan, PlanJob
from api.plans.runner import InProcessRunner, recover_interrupted
from api.plans.service import new_job

# `make test` runs these in a pass of their own: one Ray cluster at a time on the machine.
pytestmark = pytest.mark.cluster
TERMINAL = {"succeeded", "failed", "cancelled"}
AREAS = [f"r{n}" for n in range(6)]


@pytest.fixture
def backend() -> str:
    """The Ray runner is for deployments of several processes: PostgreSQL only."""
    return "postgresql"


@pytest.fixture
def cluster_settings(settings: ServiceSettings, ray_cluster: RayCluster) -> ServiceSettings:
    return settings.model_copy(
        update={"ray_address": ray_cluster.address, "ray_task_cpus": 1, "ray_max_jobs": 8}
    )


@pytest.fixture
def service(cluster_settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(cluster_settings) as client:
        yield client


def _post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def seed_areas(client: TestClient, admin: dict[str, str], areas: list[str]) -> None:
    """Each area a depot far from the others, one crewed truck and three orders on DAY."""
    for index, area in enumerate(areas):
        lat, lon = 22.0 + 2 * index, 104.0 + 2 * index
        _post(client, admin, "/areas", {"code": area, "name": f"店{area}", "city": f"城{area}"})
        depot = f"WH-{area}"
        _post(client, admin, "/depots", {"code": depot, "lat": lat, "lon": lon, "area_code": area})
        truck = {"code": f"T-{area}", "depot_code": depot, "weight_kg": 1000, "volume_m3": 12}
        _post(client, admin, "/vehicles", truck)
        for n, role in enumerate(("driver", "porter")):
            staff = {"name": f"{area}-{role}", "phone": f"139{index:04d}000{n}", "role": role}
            person = _post(client, admin, "/staff", {**staff, "area_code": area})
            crew = {"date": DAY.isoformat(), "vehicle_code": truck["code"], "role": role}
            _post(client, admin, "/crews", {**crew, "staff_id": person["id"]})
        for n in range(3):
            order = {
                "external_id": f"{area}-{n}",
                "customer": f"客户{n}",
                "phone": f"1380013{index:02d}{n:02d}",
                "address": f"建设路{n + 1}号",
                "lat": lat + 0.01 * (n + 1),
                "lon": lon + 0.01,
                "date": DAY.isoformat(),
                "slot": "morning" if n % 2 == 0 else "afternoon",
                "items": [
                    {"sku": "SOFA", "name": "沙发", "quantity": 1, "weight_kg": 40, "volume_m3": 2}
                ],
            }
            _post(client, admin, "/orders", order)


def queue_job(client: TestClient, area: str, seconds: float, **fields: Any) -> int:
    """A job written straight to the queue; `engines=["ortools"]` makes it use its whole limit."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    job = new_job(area=area, date=DAY, settings=settings, requested_by="test")
    job.time_limit_s = seconds
    job.params = {**job.params, "time_limit_s": seconds, "engines": ["ortools"]}
    for name, value in fields.items():
        setattr(job, name, value)
    with Session(engine_of(client)) as session:
        session.add(job)
        session.commit()
        assert job.id is not None
        job_id = job.id
    client.app.state.runner.wake()  # type: ignore[attr-defined]
    return job_id


def job_of(client: TestClient, admin: dict[str, str], job_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/plans/jobs/{job_id}", headers=admin).json()
    return answer


def wait_all(
    client: TestClient, admin: dict[str, str], ids: list[int], timeout_s: float = 90
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        jobs = [job_of(client, admin, job_id) for job_id in ids]
        if all(job["status"] in TERMINAL for job in jobs):
            return jobs
        assert time.monotonic() < deadline, f"jobs stuck: {jobs}"
        time.sleep(0.2)


def plans_by_area(client: TestClient) -> dict[str, int]:
    with Session(engine_of(client)) as session:
        plans = session.exec(select(Plan).where(Plan.date == DAY)).all()
    counts: dict[str, int] = {}
    for plan in plans:
        counts[plan.area_code] = counts.get(plan.area_code, 0) + 1
    return counts


def test_six_areas_queued_at_once_each_get_one_plan(
    service: TestClient, admin: dict[str, str]
) -> None:
    """Six areas' jobs queued together all run on the cluster and store exactly one plan each."""
    assert service.app.state.runner.kind == "ray"  # type: ignore[attr-defined]
    seed_areas(service, admin, AREAS)
    ids = []
    for area in AREAS:  # as the 15:00 planning queues them: one job per area
        body = {"date": DAY.isoformat(), "time_limit_s": 2, "area": area}
        answer = service.post("/plans", json=body, headers=admin)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    jobs = wait_all(service, admin, ids)
    assert [job["status"] for job in jobs] == ["succeeded"] * 6, jobs
    assert all(job["visits_routed"] == 3 for job in jobs), jobs
    assert plans_by_area(service) == dict.fromkeys(AREAS, 1)


def test_a_dying_node_still_ends_every_job_with_one_plan(
    service: TestClient, admin: dict[str, str], ray_cluster: RayCluster
) -> None:
    """The second node is killed mid-solve: its task runs again on the head, one plan each."""
    areas = AREAS[:3]
    seed_areas(service, admin, areas)
    ids = [queue_job(service, area, 6.0) for area in areas]
    deadline = time.monotonic() + 60
    # Both nodes busy (one CPU each): one of the running searches is on the second node.
    while sum(job_of(service, admin, i)["visits_routed"] is not None for i in ids) < 2:
        assert time.monotonic() < deadline, [job_of(service, admin, i) for i in ids]
        time.sleep(0.2)
    ray_cluster.kill_second_node()
    jobs = wait_all(service, admin, ids, timeout_s=120)
    assert [job["status"] for job in jobs] == ["succeeded"] * 3, jobs
    assert plans_by_area(service) == dict.fromkeys(areas, 1)
    ray_cluster.replace_second_node()


def test_cancel_reaches_the_remote_task(service: TestClient, admin: dict[str, str]) -> None:
    """Cancelling a two-minute solve on the cluster ends it within seconds and frees its core."""
    import ray

    seed_areas(service, admin, AREAS[:1])
    job_id = queue_job(service, AREAS[0], 120.0)
    deadline = time.monotonic() + 60
    while job_of(service, admin, job_id)["visits_routed"] is None:  # the task reports
        assert time.monotonic() < deadline, job_of(service, admin, job_id)
        time.sleep(0.2)
    total = ray.cluster_resources()["CPU"]
    assert ray.available_resources().get("CPU", 0) < total  # the search holds a core
    assert service.post(f"/plans/jobs/{job_id}/cancel", headers=admin).status_code == 200
    asked = time.monotonic()
    done = wait_all(service, admin, [job_id], timeout_s=30)[0]
    assert (done["status"], done["plan_id"]) == ("cancelled", None)
    # Against the live total: a node the head marks dead meanwhile takes its core with it.
    while ray.available_resources().get("CPU", 0) < ray.cluster_resources().get("CPU", 0):
        assert time.monotonic() - asked < 20, ray.available_resources()
        time.sleep(0.2)
    assert time.monotonic() - asked < 20


def test_a_day_no_node_can_hold_fails_its_job_with_the_reason(
    cluster_settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """A task asking for more cores than any node has fails its job at once, saying why."""
    too_big = cluster_settings.model_copy(update={"ray_task_cpus": 8})
    with app_at(too_big) as client:
        seed_areas(client, admin, AREAS[:1])
        done = wait_all(client, admin, [queue_job(client, AREAS[0], 1.0)], timeout_s=30)[0]
    assert (done["status"], done["plan_id"]) == ("failed", None)
    assert "no node of the planning cluster has 8 cores" in done["message"]


def test_without_a_ray_address_the_embedded_runner_plans(settings: ServiceSettings) -> None:
    """No DISPATCH_RAY_ADDRESS: jobs run in child processes of the service, as before."""
    with app_at(settings) as client:
        runner = client.app.state.runner  # type: ignore[attr-defined]
        assert type(runner) is InProcessRunner
        health = client.get("/health").json()
    assert health["runner"] == {"kind": "embedded"}
    assert (health["database"], health["status"], health["queued_jobs"]) == ("ok", "ok", 0)


def test_a_starting_process_leaves_a_live_run_alone(
    service: TestClient, admin: dict[str, str], settings: ServiceSettings
) -> None:
    """A second process starting mid-solve does not re-queue it; an expired lease is re-queued."""
    seed_areas(service, admin, AREAS[:2])
    live = queue_job(service, AREAS[0], 120.0)
    deadline = time.monotonic() + 60
    while job_of(service, admin, live)["visits_routed"] is None:
        assert time.monotonic() < deadline, job_of(service, admin, live)
        time.sleep(0.2)
    silent_since = utcnow() - dt.timedelta(seconds=settings.job_lease_s + 1)
    dead = queue_job(
        service, AREAS[1], 1.0, status=JobStatus.RUNNING, attempts=1, heartbeat_at=silent_since
    )
    with app_at(settings) as second:  # its start sweeps the leases
        engine = engine_of(second)
        with Session(engine) as session:
            rows = {job.id: job for job in session.exec(select(PlanJob))}
        assert (rows[live].status, rows[live].attempts, rows[live].requeues) == (
            JobStatus.RUNNING,
            1,
            0,
        )
        assert rows[dead].requeues == 1  # silent past its lease: presumed dead
        second.app.state.runner.stop()  # type: ignore[attr-defined]
    # the live run went on reporting through the other process's start
    before = job_of(service, admin, live)["progress"]
    time.sleep(1.5)
    assert job_of(service, admin, live)["progress"] > before
    service.post(f"/plans/jobs/{live}/cancel", headers=admin)
    wait_all(service, admin, [live, dead], timeout_s=60)
    engine = engine_of(service)
    with engine.begin() as connection:  # fresh heartbeats: a long lease leaves them alone
        connection.execute(update(PlanJob).values(status=JobStatus.RUNNING, heartbeat_at=utcnow()))
    recover_interrupted(engine, lease_s=3600)
    with Session(engine) as session:
        assert {job.status for job in session.exec(select(PlanJob))} == {JobStatus.RUNNING}
    recover_interrupted(engine)  # no lease: every run presumed dead, as a lone start did
    with Session(engine) as session:
        left = session.exec(select(PlanJob).where(col(PlanJob.status) == JobStatus.RUNNING))
        assert left.all() == []


def test_an_unreachable_cluster_keeps_jobs_queued_and_health_says_so(
    settings: ServiceSettings, admin: dict[str, str], ray_installed: None
) -> None:
    """A cluster address nobody answers: jobs stay queued, /health says so, requests are quick."""
    closed = f"{HEAD_IP}:{_free_port(HEAD_IP)}"
    unreachable = settings.model_copy(update={"ray_address": closed, "ray_connect_timeout_s": 1})
    with app_at(unreachable) as client:
        seed_areas(client, admin, AREAS[:1])
        job_id = queue_job(client, AREAS[0], 1.0)
        deadline = time.monotonic() + 10
        while True:
            asked = time.monotonic()
            health = client.get("/health")
            assert time.monotonic() - asked < 1.0  # no request waits on the cluster
            if health.json()["runner"]["cluster"] == "unreachable":
                break
            assert time.monotonic() < deadline, health.json()
            time.sleep(0.2)
        body = health.json()
        assert health.status_code == 200 and body["status"] == "degraded"
        assert body["runner"]["kind"] == "ray" and body["runner"]["since"]
        assert body["queued_jobs"] == 1
        time.sleep(2.0)
        asked = time.monotonic()
        job = job_of(client, admin, job_id)
        assert time.monotonic() - asked < 1.0
        assert (job["status"], job["attempts"]) == ("queued", 0)


def test_a_lost_cluster_puts_the_running_job_back_in_the_queue(
    service: TestClient, admin: dict[str, str], ray_cluster: RayCluster
) -> None:
    """The head dies mid-solve (last test: it ends the cluster): the job is re-queued, not
    failed, without using up an attempt, and /health says the cluster is unreachable."""
    from api.plans.ray_runner import LOST  # Ray installed: the cluster fixture says so

    seed_areas(service, admin, AREAS[:1])
    job_id = queue_job(service, AREAS[0], 120.0)
    deadline = time.monotonic() + 60
    while job_of(service, admin, job_id)["visits_routed"] is None:
        assert time.monotonic() < deadline, job_of(service, admin, job_id)
        time.sleep(0.2)
    ray_cluster.kill_head()
    deadline = time.monotonic() + 30
    while (job := job_of(service, admin, job_id))["status"] != "queued":
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert (job["attempts"], job["requeues"], job["requeue_reason"]) == (0, 1, LOST)
    asked = time.monotonic()
    health = service.get("/health").json()
    assert time.monotonic() - asked < 1.0
    assert (health["runner"]["cluster"], health["queued_jobs"]) == ("unreachable", 1)

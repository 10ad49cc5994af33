"""Planning: jobs solved off the request path, cancelled, recovered, and plans read back."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.auth.models import utcnow
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.main import create_app
from api.plan_text import plan_words
from api.plans.model_input import planning_input
from api.plans.models import JobStatus, Plan, PlanJob
from api.plans.runner import (
    INTERRUPTED,
    SHUT_DOWN,
    InProcessRunner,
    claim,
    recover_interrupted,
)
from api.plans.scheduler import SCHEDULER, due_auto_job
from api.plans.service import new_job
from optimizer.check import check_routes

ZONE = ZoneInfo("Asia/Shanghai")
# Orders are booked three days ahead, so the service runs as of a fixed morning in the store.
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZONE)
DAY = dt.date(2026, 11, 27)
TERMINAL = {"succeeded", "failed", "cancelled"}
HHMM = re.compile(r"^\d\d:\d\d$")


def app_at(settings: ServiceSettings, moment: dt.datetime = NOW) -> TestClient:
    return TestClient(create_app(settings, clock=Clock(settings.timezone, fixed=moment)))


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    with app_at(settings) as test_client:
        yield test_client


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def seed_day(client: TestClient, headers: dict[str, str]) -> None:
    """One depot, two trucks (one with the gas skill) and eight orders on DAY, one too heavy."""

    def post(path: str, body: dict[str, Any]) -> None:
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 201, answer.text

    post("/skills", {"name": "gas_appliance"})
    post("/depots", {"code": "WH", "lat": 30.82, "lon": 104.16})
    truck = {"depot_code": "WH", "weight_kg": 3000, "volume_m3": 16}
    post("/vehicles", {**truck, "code": "C01", "skills": ["gas_appliance"]})
    post("/vehicles", {**truck, "code": "C02", "weight_kg": 1500, "volume_m3": 9})
    for n in range(8):
        post("/orders", order(n))


def order(n: int) -> dict[str, Any]:
    weight = 4000 if n == 7 else 60  # SO-7 fits no truck: it must come back with a reason
    return {
        "external_id": f"SO-{n}",
        "customer": f"客户{n}",
        "phone": f"1380013800{n}",
        "address": f"成都市成华区建设路{n + 1}号",
        "lat": 30.66 + 0.02 * (n % 4),
        "lon": 104.06 + 0.03 * (n // 4),
        "date": DAY.isoformat(),
        "slot": "morning" if n % 2 else "afternoon",
        "cash_cny": 500 * n,
        "skills": ["gas_appliance"] if n == 3 else [],
        "items": [
            {"sku": f"SKU-{n}", "name": "衣柜", "quantity": 1, "weight_kg": weight, "volume_m3": 1}
        ],
    }


def submit(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post("/plans", json={"date": DAY.isoformat(), **body}, headers=headers)
    assert answer.status_code == 202, answer.text
    job: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"/plans/jobs/{job['id']}"
    return job


def wait_for(
    client: TestClient,
    headers: dict[str, str],
    job_id: int,
    done: Callable[[dict[str, Any]], bool] = lambda job: job["status"] in TERMINAL,
    timeout_s: float = 60.0,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = client.get(f"/plans/jobs/{job_id}", headers=headers).json()
        if done(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} stuck: {job}"
        time.sleep(0.1)


def stored_job(client: TestClient, **fields: Any) -> int:
    """A job row written straight to the table, as another process would have left it."""
    job = new_job(area="main", date=DAY, settings=client.app.state.settings, requested_by="test")  # type: ignore[attr-defined]
    job.time_limit_s = 1.0
    job.params = {**job.params, "time_limit_s": 1.0}
    for name, value in fields.items():
        setattr(job, name, value)
    with Session(engine_of(client)) as session:
        session.add(job)
        session.commit()
        assert job.id is not None
        return job.id


def two_minute_job(client: TestClient) -> int:
    """A stored job whose solve runs its full two minutes unless stopped."""
    # The genetic search settles the eight-order day in a tenth of a second, sooner than a test
    # can cancel or shut down; OR-Tools' guided local search alone runs to its limit.
    return stored_job(client, time_limit_s=120.0, params={"engines": ["ortools"]})


def plans_of(engine: Engine, date: dt.date = DAY) -> list[Plan]:
    with Session(engine) as session:
        return list(session.exec(select(Plan).where(Plan.date == date)))


def test_plan_routes_every_order_and_passes_the_checker(
    client: TestClient, admin: dict[str, str], settings: ServiceSettings
) -> None:
    """A 2-second solve stores a plan whose routes pass the checker and leave none behind."""
    seed_day(client, admin)
    job = submit(client, admin, time_limit_s=2, seed=7)
    assert (job["status"], job["time_limit_s"], job["seed"]) == ("queued", 2.0, 7)
    done = wait_for(client, admin, job["id"])
    assert (done["status"], done["progress"]) == ("succeeded", 1.0), done
    answer = client.get(f"/plans/{done['plan_id']}", headers=admin)
    plan = answer.json()
    assert answer.headers["etag"] == f'"{plan["version"]}"'
    assert (plan["status"], plan["seed"], plan["time_limit_s"]) == ("draft", 7, 2.0)
    assert plan["params"]["time_limit_s"] == 2.0
    assert plan["params"]["first_solution"] == "parallel_cheapest_insertion"
    routed = [stop["external_id"] for route in plan["routes"] for stop in route["stops"]]
    left = {u["external_id"]: u for u in plan["unassigned"]}
    assert sorted(routed + list(left)) == [f"SO-{n}" for n in range(8)]
    assert left["SO-7"]["code"] == "too_heavy" and left["SO-7"]["reason"]
    assert plan["kpis"]["visits_total"] == 8
    assert plan["kpis"]["visits_unassigned"] == len(left)
    # the finished job's figures are the stored plan's
    assert done["visits_routed"] == plan["kpis"]["visits_routed"] == len(routed)
    assert done["distance_km"] == plan["kpis"]["distance_km"]
    for route in plan["routes"]:
        assert HHMM.match(route["departure"]) and HHMM.match(route["return_time"])
        assert [stop["position"] for stop in route["stops"]] == list(
            range(1, len(route["stops"]) + 1)
        )
        assert all(HHMM.match(stop["arrival"]) for stop in route["stops"])
    gas = next(s for r in plan["routes"] for s in r["stops"] if s["external_id"] == "SO-3")
    assert gas["customer"] == "客户3" and gas["phone"] == "13800138003"
    with Session(engine_of(client)) as session:
        day = planning_input(session=session, date=DAY, settings=settings)
    routes = {r["vehicle_code"]: [s["external_id"] for s in r["stops"]] for r in plan["routes"]}
    assert check_routes(day.data, routes) == []


def test_new_plan_supersedes_the_earlier_draft(client: TestClient, admin: dict[str, str]) -> None:
    """A second plan for the date retires the first draft (version bumped); newest listed first."""
    seed_day(client, admin)
    first = wait_for(client, admin, submit(client, admin, time_limit_s=1)["id"])
    second = wait_for(client, admin, submit(client, admin, time_limit_s=1, seed=1)["id"])
    assert first["status"] == second["status"] == "succeeded"
    listed = client.get("/plans", params={"date": DAY.isoformat()}, headers=admin).json()
    assert [(p["id"], p["status"]) for p in listed] == [
        (second["plan_id"], "draft"),
        (first["plan_id"], "superseded"),
    ]
    retired = client.get(f"/plans/{first['plan_id']}", headers=admin)
    assert (retired.json()["version"], retired.headers["etag"]) == (2, '"2"')


def test_cancelling_a_running_job_stores_no_plan(client: TestClient, admin: dict[str, str]) -> None:
    """A running solve is listed as active; asked to cancel, it stops within seconds, planless."""
    seed_day(client, admin)
    job_id = two_minute_job(client)
    client.app.state.runner.wake()  # type: ignore[attr-defined]
    wait_for(client, admin, job_id, lambda j: j["status"] == "running", timeout_s=30)
    jobs = {"date": DAY.isoformat(), "active": "true"}
    running = client.get("/plans/jobs", params=jobs, headers=admin).json()
    assert [j["id"] for j in running] == [job_id]  # a board elsewhere can follow it
    asked = client.post(f"/plans/jobs/{job_id}/cancel", headers=admin)
    assert asked.status_code == 200
    assert asked.json()["cancel_requested"] is True
    started = time.monotonic()
    done = wait_for(client, admin, job_id, timeout_s=30)
    assert (done["status"], done["plan_id"]) == ("cancelled", None)
    assert time.monotonic() - started < 10
    assert client.get("/plans", params={"date": DAY.isoformat()}, headers=admin).json() == []
    assert client.get("/plans/jobs", params=jobs, headers=admin).json() == []
    every = client.get("/plans/jobs", params={"date": DAY.isoformat()}, headers=admin).json()
    assert [(j["id"], j["status"]) for j in every] == [(job_id, "cancelled")]


def test_shutdown_stops_the_solve_and_requeues_the_job(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """Stopping the service ends a two-minute solve promptly and puts its job back in the queue."""
    with app_at(settings) as seeding:
        seed_day(seeding, admin)
        seeding.app.state.runner.stop()  # type: ignore[attr-defined]
        job_id = two_minute_job(seeding)
    with app_at(settings) as running:
        wait_for(running, admin, job_id, lambda j: j["status"] == "running", timeout_s=30)
        engine = engine_of(running)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10
    with Session(engine) as session:
        row = session.get(PlanJob, job_id)
        assert row is not None
        assert (row.status, row.attempts, row.plan_id) == (JobStatus.QUEUED, 0, None)
        assert (row.requeues, row.requeue_reason) == (1, SHUT_DOWN)


def test_a_running_job_shows_its_best_plan_so_far(
    client: TestClient, admin: dict[str, str]
) -> None:
    """While it searches, the job gives visits routed and km, and its message says the same."""
    seed_day(client, admin)
    job_id = two_minute_job(client)
    client.app.state.runner.wake()  # type: ignore[attr-defined]
    running = wait_for(
        client, admin, job_id, lambda j: j["visits_routed"] is not None, timeout_s=30
    )
    assert running["status"] == "running" and running["distance_km"] > 0
    words = plan_words(running["visits_routed"], running["distance_km"])
    assert running["message"] == f"searching: {words}"
    assert re.fullmatch(r"searching: \d+ visits routed, [\d,]+\.\d km", running["message"])
    client.post(f"/plans/jobs/{job_id}/cancel", headers=admin)
    wait_for(client, admin, job_id, timeout_s=30)


def test_queued_job_cancels_at_once_and_finished_job_is_409(
    client: TestClient, admin: dict[str, str]
) -> None:
    """With no worker running, a queued job cancels immediately; cancelling it again is 409."""
    client.app.state.runner.stop()  # type: ignore[attr-defined]
    job = submit(client, admin, time_limit_s=1)
    cancelled = client.post(f"/plans/jobs/{job['id']}/cancel", headers=admin)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/plans/jobs/{job['id']}/cancel", headers=admin)
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]


def test_job_error_fails_the_job_with_its_message(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Planning a day without any depot fails the job and says why, rather than vanishing."""
    done = wait_for(client, admin, submit(client, admin, time_limit_s=1)["id"])
    assert done["status"] == "failed"
    assert "depot" in done["message"]
    assert done["finished_at"] is not None


@pytest.mark.parametrize(
    ("attempts", "status", "plans"),
    [
        (1, "succeeded", 1),  # died on its first run: run again, once
        (3, "failed", 0),  # died three times: give up rather than crash-loop
    ],
)
def test_job_left_running_by_a_dead_process(
    client: TestClient,
    admin: dict[str, str],
    settings: ServiceSettings,
    attempts: int,
    status: str,
    plans: int,
) -> None:
    """A job left running is re-queued by the next start, or failed after three attempts."""
    seed_day(client, admin)
    client.app.state.runner.stop()  # type: ignore[attr-defined]  # the process that "died"
    job_id = stored_job(client, status=JobStatus.RUNNING, attempts=attempts)
    with app_at(settings) as restarted:
        done = wait_for(restarted, admin, job_id)
        assert done["status"] == status, done
        found = plans_of(engine_of(restarted))
    # the job's resource says it ran again, and why
    assert done["attempts"] == (attempts + 1 if plans else attempts)
    assert (done["requeues"], done["requeue_reason"]) == ((1, INTERRUPTED) if plans else (0, ""))
    assert len(found) == plans
    assert all(plan.job_id == job_id for plan in found)
    with Session(engine_of(client)) as session:
        row = session.get(PlanJob, job_id)
        assert row is not None
        assert row.attempts == (attempts + 1 if plans else attempts)


def test_a_live_process_requeues_a_job_once_its_lease_runs_out(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """A job whose run just reported stays running; silent past the lease, it runs again."""
    settings = settings.model_copy(update={"job_lease_s": 2.0})
    with app_at(settings) as client:
        seed_day(client, admin)
        job_id = stored_job(client, status=JobStatus.RUNNING, attempts=1, heartbeat_at=utcnow())
        time.sleep(1.0)  # several sweeps of the running process: the lease is still fresh
        assert wait_for(client, admin, job_id, lambda j: True)["status"] == "running"
        done = wait_for(client, admin, job_id, timeout_s=30)
    assert (done["status"], done["attempts"]) == ("succeeded", 2), done
    assert (done["requeues"], done["requeue_reason"]) == (1, INTERRUPTED)


def test_only_one_runner_claims_a_job(client: TestClient) -> None:
    """Two claims of one queued job: the first gets attempt 1, the second gets nothing."""
    client.app.state.runner.stop()  # type: ignore[attr-defined]
    job_id = stored_job(client)
    engine = engine_of(client)
    assert claim(engine, job_id) == 1
    assert claim(engine, job_id) is None
    with Session(engine) as session:
        row = session.get(PlanJob, job_id)
        assert row is not None
        assert (row.status, row.attempts) == (JobStatus.RUNNING, 1)


def test_a_run_that_lost_its_job_stores_nothing(
    client: TestClient, admin: dict[str, str], settings: ServiceSettings
) -> None:
    """A run whose job was re-queued and re-claimed elsewhere is fenced off; the new run stores."""
    seed_day(client, admin)
    client.app.state.runner.stop()  # type: ignore[attr-defined]
    engine = engine_of(client)
    job_id = stored_job(client)
    stale = claim(engine, job_id)
    recover_interrupted(engine)  # another process started and presumed this run dead
    fresh = claim(engine, job_id)
    assert (stale, fresh) == (1, 2)
    runner = InProcessRunner(engine, settings)
    runner.run(job_id, 1)
    assert plans_of(engine) == []
    assert wait_for(client, admin, job_id, lambda j: True)["status"] == "running"
    runner.run(job_id, 2)
    assert wait_for(client, admin, job_id, lambda j: True)["status"] == "succeeded"
    assert len(plans_of(engine)) == 1


@pytest.mark.parametrize(
    ("clock", "last_run", "due"),
    [
        ((14, 59), None, None),  # a minute early
        ((15, 0), None, dt.date(2026, 11, 25)),  # on the dot
        ((15, 1), None, dt.date(2026, 11, 25)),  # just after
        ((15, 1), dt.date(2026, 11, 24), None),  # second call the same day
        ((23, 0), dt.date(2026, 11, 23), dt.date(2026, 11, 25)),  # last ran yesterday: catch up
        ((9, 0), dt.date(2026, 11, 23), None),  # a new day, but before the planning time
    ],
)
def test_due_auto_job(
    clock: tuple[int, int], last_run: dt.date | None, due: dt.date | None
) -> None:
    """Tomorrow is due from 15:00 local time, once per day."""
    now = dt.datetime(2026, 11, 24, *clock, tzinfo=ZONE)
    assert due_auto_job(now, last_run, planning_time=dt.time(15, 0)) == due


def test_scheduler_queues_tomorrow_once_across_restarts(settings: ServiceSettings) -> None:
    """At 15:30 the scheduler queues tomorrow's job; a restart the same day does not repeat it."""
    settings = settings.model_copy(update={"run_scheduler": True, "default_plan_seconds": 1.0})
    afternoon = NOW.replace(hour=15, minute=30)
    tomorrow = afternoon.date() + dt.timedelta(days=1)
    for _ in range(2):
        with app_at(settings, afternoon) as running:
            scheduler = running.app.state.scheduler  # type: ignore[attr-defined]
            deadline = time.monotonic() + 10
            while scheduler.last_run.get("main") != afternoon.date():
                assert time.monotonic() < deadline, "the scheduler never ticked"
                time.sleep(0.05)
            with Session(engine_of(running)) as session:
                jobs = session.exec(select(PlanJob).where(col(PlanJob.requested_by) == SCHEDULER))
                assert [job.date for job in jobs] == [tomorrow]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("warehouse", 403),  # reads plans, but does not start them
        ("finance", 403),  # likewise
        (None, 401),  # no key at all
    ],
)
def test_who_may_start_planning(
    client: TestClient, key_for: KeyMaker, role: str | None, status: int
) -> None:
    """Only dispatchers (and admins) start planning; the back office may still list plans."""
    headers = key_for(role) if role else {}
    answer = client.post("/plans", json={"date": DAY.isoformat()}, headers=headers)
    assert answer.status_code == status
    listed = client.get("/plans", params={"date": DAY.isoformat()}, headers=headers)
    assert listed.status_code == (200 if role else 401)


@pytest.mark.parametrize(
    "body",
    [
        {"date": "tomorrow"},  # not a date
        {"date": DAY.isoformat(), "time_limit_s": -1},  # negative time limit
        {"date": DAY.isoformat(), "time_limit_s": 7200},  # over the hour cap
        {"date": DAY.isoformat(), "seed": -3},  # seeds are non-negative
        {"date": "2026-11-23"},  # yesterday, as of NOW
        {},  # no date
    ],
)
def test_malformed_plan_request_is_422(
    client: TestClient, admin: dict[str, str], body: dict[str, Any]
) -> None:
    """A bad planning request is refused before any job is queued."""
    assert client.post("/plans", json=body, headers=admin).status_code == 422
    with Session(engine_of(client)) as session:
        assert session.exec(select(PlanJob)).first() is None


def test_unknown_plan_and_job_are_404(client: TestClient, admin: dict[str, str]) -> None:
    """Reading or cancelling what does not exist is a 404, not a server error."""
    assert client.get("/plans/999", headers=admin).status_code == 404
    assert client.get("/plans/jobs/999", headers=admin).status_code == 404
    assert client.post("/plans/jobs/999/cancel", headers=admin).status_code == 404

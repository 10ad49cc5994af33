"""The scope boundary of planning: a key of Chengdu gets 403 on Shanghai's jobs and plans,
and its lists show Chengdu's only; the same calls on its own area succeed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from api_keys import KeyMaker
from area_helpers import seed_two_areas
from fastapi.testclient import TestClient
from plan_helpers import DAY, app_at, engine_of, if_match, store_solved
from sqlmodel import Session

from api.core.config import ServiceSettings
from api.plans.models import JobStatus
from api.plans.service import new_job

COVERED: set[tuple[str, str]] = {
    ("POST", "/plans"),
    ("GET", "/plans/jobs"),
    ("GET", "/plans/jobs/{job_id}"),
    ("POST", "/plans/jobs/{job_id}/cancel"),
    ("GET", "/plans"),
    ("GET", "/plans/{plan_id}"),
    ("GET", "/plans/{plan_id}/map.html"),
    ("POST", "/plans/{plan_id}/moves"),
    ("POST", "/plans/{plan_id}/pins"),
    ("POST", "/plans/{plan_id}/unassign"),
    ("POST", "/plans/{plan_id}/reoptimize"),
    ("POST", "/plans/{plan_id}/publish"),
    ("GET", "/plans/{plan_id}/changes"),
}


@dataclass(frozen=True)
class World:
    """Per area: its draft plan, its running job and the first visit of its plan."""

    plan: dict[str, int]
    job: dict[str, int]
    first: dict[str, tuple[str, str]]  # area -> (external id, vehicle code)


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> World:
    """Chengdu and Shanghai, each with a draft plan of DAY and a job still running."""
    seed_two_areas(client, admin)
    plans = {area: store_solved(client, DAY, area=area, everyone=True) for area in ("cd", "sh")}
    jobs = {}
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with Session(engine_of(client)) as session:
        for area in plans:
            # Running, as another process would have it: cancelling it is asking it to stop.
            job = new_job(area=area, date=DAY, settings=settings, requested_by="test")
            job.status = JobStatus.RUNNING
            session.add(job)
            session.commit()
            jobs[area] = job.id or 0
    first = {}
    for area, plan_id in plans.items():
        route = client.get(f"/plans/{plan_id}", headers=admin).json()["routes"][0]
        first[area] = (route["stops"][0]["external_id"], route["vehicle_code"])
    return World(plan=plans, job=jobs, first=first)


# method, route template, the body for an area of the world
Body = Callable[[World, str], dict[str, Any] | None]
ONE_AREA: list[tuple[str, str, Body]] = [
    ("POST", "/plans", lambda w, a: {"date": DAY.isoformat(), "area": a, "time_limit_s": 1}),
    ("GET", "/plans/jobs/{job_id}", lambda w, a: None),
    ("POST", "/plans/jobs/{job_id}/cancel", lambda w, a: None),
    ("GET", "/plans/{plan_id}", lambda w, a: None),
    ("GET", "/plans/{plan_id}/map.html", lambda w, a: None),
    (
        "POST",
        "/plans/{plan_id}/moves",
        lambda w, a: {"order": w.first[a][0], "vehicle_code": w.first[a][1], "position": 1},
    ),
    ("POST", "/plans/{plan_id}/pins", lambda w, a: {"order": w.first[a][0], "pinned": True}),
    (
        "POST",
        "/plans/{plan_id}/unassign",
        lambda w, a: {"order": w.first[a][0], "reason": "客户改期"},
    ),
    ("POST", "/plans/{plan_id}/reoptimize", lambda w, a: {"time_limit_s": 1}),
    ("POST", "/plans/{plan_id}/publish", lambda w, a: None),
    ("GET", "/plans/{plan_id}/changes", lambda w, a: None),
]


def call(
    client: TestClient,
    world: World,
    headers: dict[str, str],
    route: tuple[str, str, Body],
    area: str,
) -> Any:
    method, template, body = route
    path = template.format(plan_id=world.plan[area], job_id=world.job[area])
    return client.request(method, path, json=body(world, area), headers=headers | if_match(1))


@pytest.mark.parametrize("route", ONE_AREA, ids=[f"{m} {p}" for m, p, _ in ONE_AREA])
def test_a_key_of_one_area_is_refused_the_others_job_or_plan(
    client: TestClient, world: World, key_for: KeyMaker, route: tuple[str, str, Body]
) -> None:
    """Chengdu's dispatcher gets 403 on Shanghai's job or plan, and succeeds on Chengdu's."""
    chengdu = key_for("dispatcher", areas=["cd"])
    refused = call(client, world, chengdu, route, "sh")
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "area_scope"
    allowed = call(client, world, chengdu, route, "cd")
    assert allowed.status_code in (200, 202), allowed.text


@pytest.mark.parametrize("path", ["/plans", "/plans/jobs"])
def test_a_key_of_one_area_lists_only_its_own_jobs_and_plans(
    client: TestClient, world: World, key_for: KeyMaker, path: str
) -> None:
    """Lists show a key its own area's rows; naming another area is a 403, a chain key sees both."""
    query = {"date": DAY.isoformat()}
    chengdu = key_for("dispatcher", areas=["cd"])
    own = client.get(path, params=query, headers=chengdu)
    assert own.status_code == 200, own.text
    assert [row["area_code"] for row in own.json()] == ["cd"]
    other = client.get(path, params=query | {"area": "sh"}, headers=chengdu)
    assert other.status_code == 403, other.text
    chain = key_for("warehouse")
    both = client.get(path, params=query, headers=chain).json()
    assert sorted(row["area_code"] for row in both) == ["cd", "sh"]
    named = client.get(path, params=query | {"area": "sh"}, headers=chain).json()
    assert [row["area_code"] for row in named] == ["sh"]

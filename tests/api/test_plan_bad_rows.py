"""An order the optimizer's model refuses is left out, named; the rest of the day is planned.

The bad rows are written straight into the database, as an old release or a hand edit
could have left them: the API refuses such numbers at intake.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from plan_helpers import CREWS, DAY, app_at, engine_of, if_match, order_body, seed_day
from sqlalchemy import update
from sqlmodel import Session, col

from api.core.config import ServiceSettings
from api.orders.models import Order

BAD = "SO-07"


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client with one whose clock stands at plan_helpers' NOW."""
    with app_at(settings) as test_client:
        yield test_client


def spoil(client: TestClient, headers: dict[str, str], **values: Any) -> None:
    """Book BAD through the API, then overwrite its row the way no request could."""
    body = order_body("SO-01", 6) | {"external_id": BAD}
    assert client.post("/orders", json=body, headers=headers).status_code == 201
    with Session(engine_of(client)) as session:
        session.exec(update(Order).where(col(Order.external_id) == BAD).values(**values))
        session.commit()


def plan_the_day(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """Submit DAY over the API and wait for the job to end."""
    answer = client.post(
        "/plans", json={"date": DAY.isoformat(), "time_limit_s": 2}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(answer.headers["location"], headers=headers).json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"cash_cny": float("inf")}, "cash_cny"),  # what 1e309 used to be stored as
        ({"weight_kg": 1e308}, "weight_kg"),  # overflows the model's grams
        ({"cash_cny": -5.0}, "cash_cny"),
        ({"lat": 95.0}, "lat"),
        ({"skills": ["piano"]}, "skills"),  # refused by the model: no such skill
    ],
)
def test_a_bad_row_is_left_out_named_and_the_rest_is_planned(
    client: TestClient, admin: dict[str, str], values: dict[str, Any], field: str
) -> None:
    """The job succeeds, every good order is routed, the bad one is unassigned by name."""
    seed_day(client, admin)
    spoil(client, admin, **values)
    job = plan_the_day(client, admin)
    assert job["status"] == "succeeded", job["message"]
    plan = client.get(f"/plans/{job['plan_id']}", headers=admin).json()
    routed = {stop["external_id"] for route in plan["routes"] for stop in route["stops"]}
    assert routed == set(CREWS)
    [left] = plan["unassigned"]
    assert (left["external_id"], left["code"]) == (BAD, "invalid_order")
    assert f"order {BAD} cannot be planned" in left["reason"]
    assert f"{field}:" in left["reason"]
    assert (plan["kpis"]["visits_total"], plan["kpis"]["visits_unassigned"]) == (7, 1)


def test_a_plan_with_a_bad_row_can_be_shown_and_reoptimised(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Its map and board draw, and re-optimising keeps the bad order listed with its reason."""
    seed_day(client, admin)
    spoil(client, admin, cash_cny=float("inf"))
    plan_id = plan_the_day(client, admin)["plan_id"]
    assert client.get(f"/plans/{plan_id}/map.html", headers=admin).status_code == 200
    key = admin["Authorization"].removeprefix("Bearer ")
    assert client.post("/session", json={"key": key}).status_code == 200  # pages sign in
    board = client.get("/app/board", params={"date": DAY.isoformat()})
    assert board.status_code == 200 and "订单数据无效" in board.text
    version = client.get(f"/plans/{plan_id}", headers=admin).json()["version"]
    again = client.post(
        f"/plans/{plan_id}/reoptimize",
        json={"time_limit_s": 2},
        headers={**admin, **if_match(version)},
    )
    assert again.status_code == 200, again.text
    assert again.json()["unassigned"] == [BAD]
    [left] = client.get(f"/plans/{plan_id}", headers=admin).json()["unassigned"]
    assert left["code"] == "invalid_order"

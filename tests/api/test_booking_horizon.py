"""Nothing is booked, moved, offered or planned past the booking horizon (90 days)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import AT, GPS, published_day
from plan_helpers import DAY, app_at, order_body
from test_handover import load_and_leave
from test_ticket_visits import TICKET, fleet

from api.core.config import ServiceSettings

LATEST = "2027-02-22"  # plan_helpers' NOW (2026-11-24) plus the 90 days of the horizon
PAST = "2027-02-23"
FAR = "9999-12-31"


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client with one whose clock stands at plan_helpers' NOW."""
    with app_at(settings) as test_client:
        yield test_client


def refused(answer: Any, field: str = "date") -> None:
    assert answer.status_code == 422, answer.text
    assert (answer.json()["field"], answer.json()["rule"]) == (field, "booking_horizon_days")


@pytest.mark.parametrize(("date", "status"), [(LATEST, 201), (PAST, 422), (FAR, 422)])
def test_orders_are_booked_within_the_horizon(
    client: TestClient, admin: dict[str, str], date: str, status: int
) -> None:
    """The horizon's last day is bookable; past it is a 422 naming date and the latest date."""
    answer = client.post("/orders", json=order_body("SO-01", 0) | {"date": date}, headers=admin)
    assert answer.status_code == status, answer.text
    if status == 422:
        refused(answer)
        assert LATEST in answer.json()["detail"]


def test_an_order_is_not_moved_past_the_horizon(client: TestClient, admin: dict[str, str]) -> None:
    """Rescheduling past the horizon is refused naming date; the order stays."""
    client.post("/orders", json=order_body("SO-01", 0), headers=admin)
    move = {"date": PAST, "slot": "morning"}
    refused(client.post("/orders/SO-01/reschedule", json=move, headers=admin))
    assert client.get("/orders/SO-01", headers=admin).json()["date"] == DAY.isoformat()


@pytest.mark.parametrize("date", [PAST, FAR])
def test_no_plan_past_the_horizon(client: TestClient, admin: dict[str, str], date: str) -> None:
    """Planning a date past the horizon is a 422 naming date, and queues nothing."""
    refused(client.post("/plans", json={"date": date}, headers=admin))
    assert client.get("/plans/jobs", params={"date": date}, headers=admin).json() == []


def test_slots_are_offered_up_to_the_horizon(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """With a five-day horizon, a two-week slot question answers the three dates within it."""
    short = settings.model_copy(update={"booking_horizon_days": 5})
    with app_at(short) as client:
        answer = client.get("/slots", params={"lat": 30.6, "lon": 104.0, "days": 14}, headers=admin)
    assert answer.status_code == 200, answer.text
    dates = sorted({offer["date"] for offer in answer.json()})
    assert dates == ["2026-11-27", "2026-11-28", "2026-11-29"]


def test_no_ticket_visit_past_the_horizon(
    client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """A repair agreed for 9999 is not booked: a 422 naming on_site_at."""
    boss = key_for("dispatcher")
    fleet(client, admin, ())
    far = TICKET | {"on_site_at": f"{FAR}T10:30:00+08:00"}
    opened = client.post("/tickets", json=far, headers=boss).json()
    client.post(f"/tickets/{opened['id']}/answer", headers=boss)
    refused(client.post(f"/tickets/{opened['id']}/schedule", headers=boss), "on_site_at")
    assert client.get("/orders", headers=boss).json() == []


def test_a_failed_delivery_is_not_replanned_past_the_horizon(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """A crew typing 9999 as the customer's new date gets a 422 naming reschedule_date."""
    for day in published_day(settings, admin):
        driver = load_and_leave(day, key_for)
        failure = {
            "at": AT,
            **GPS,
            "reason": "customer_absent",
            "outcome": "rescheduled",
            "reschedule_date": FAR,
        }
        headers = {**driver, "Idempotency-Key": uuid.uuid4().hex}
        answer = day.post(f"/handover/{DAY}/stops/SO-03/fail", json=failure, headers=headers)
        refused(answer, "reschedule_date")

"""A failed or partial delivery goes back to its own area's planning: the area's planning
time decides which plan is still to be made."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import AT, GPS, published_day
from plan_helpers import DAY, engine_of
from sqlmodel import Session, select
from test_handover import load_and_leave, post

from api.core.config import ServiceSettings
from api.orders.models import Order, OrderStatus


@pytest.fixture
def day(settings: ServiceSettings, admin: dict[str, str]) -> Iterator[TestClient]:
    """The seeded day published, the service at 09:00 on it, and the store's area planning
    its next day at 08:00 (the chain plans at 15:00)."""
    for client in published_day(settings, admin):
        answer = client.patch("/areas/main", json={"planning_time": "08:00"}, headers=admin)
        assert answer.status_code == 200, answer.text
        yield client


def test_a_failed_delivery_after_the_areas_planning_time_waits_a_day(
    day: TestClient, key_for: KeyMaker
) -> None:
    """Failed at 09:00, after the area's 08:00 planning: tomorrow's plan is made, so after it."""
    driver = load_and_leave(day, key_for)
    failure = {"at": AT, **GPS, "reason": "customer_absent", "outcome": "back_to_warehouse"}
    answer = post(day, "/stops/SO-03/fail", failure, driver)
    assert answer.status_code == 201, answer.text
    again = dt.date.fromisoformat(answer.json()["payload"]["replanned_for"])
    assert again == DAY + dt.timedelta(days=2)


def test_a_partial_delivery_after_the_areas_planning_time_waits_a_day(
    day: TestClient, key_for: KeyMaker
) -> None:
    """The rest of a partial delivery is planned on the area's next plan still to be made."""
    driver = load_and_leave(day, key_for)
    post(day, "/stops/SO-02/arrive", {"at": AT, **GPS}, driver)
    handed = {"at": AT, **GPS, "counts": [{"sku": "WARD-2", "quantity": 3}]}
    assert post(day, "/stops/SO-02/deliver", handed, driver).status_code == 201
    with Session(engine_of(day)) as session:
        order = session.exec(select(Order).where(Order.external_id == "SO-02")).one()
        assert order.status is OrderStatus.FAILED
        assert order.date == DAY + dt.timedelta(days=2)

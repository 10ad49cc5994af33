"""An order's numbers at intake: finite, and within the settings' bounds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_orders import NOW, app_at, order_payload

from api.core.config import ServiceSettings


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client with one whose clock stands at NOW."""
    with app_at(settings, NOW) as client:
        yield client


def item(**changes: Any) -> dict[str, Any]:
    return {
        "sku": "TILE",
        "name": "瓷砖",
        "quantity": 1,
        "weight_kg": 20,
        "volume_m3": 0.1,
    } | changes


def post_raw(client: TestClient, headers: dict[str, str], body: str) -> Any:
    """JSON as a client may write it: NaN, Infinity and 1e309 are not standard JSON."""
    return client.post(
        "/orders", content=body, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"cash_cny": 1e309', "cash_cny"),  # read as infinity
        ('"cash_cny": Infinity', "cash_cny"),
        ('"lat": NaN', "lat"),
        ('"lon": -Infinity', "lon"),
    ],
)
def test_non_finite_numbers_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], raw: str, field: str
) -> None:
    """NaN and infinity are refused naming the field, and the input is not echoed back."""
    body = json.dumps(order_payload(), ensure_ascii=False)[:-1] + ", " + raw + "}"
    answer = post_raw(client, admin, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["detail"][0]["type"] == "finite_number"
    assert "input" not in answer.json()["detail"][0]
    assert client.get("/orders", headers=admin).json() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": [item(quantity=10**400)]}, "items[0].quantity"),
        ({"items": [item(weight_kg=1e308), item(weight_kg=1e308)]}, "items[0].weight_kg"),
        ({"items": [item(volume_m3=51)]}, "items[0].volume_m3"),
        ({"items": [item(quantity=10_001)]}, "items[0].quantity"),
        ({"items": [item()] * 201}, "items"),
        ({"cash_cny": 1_000_000.01}, "cash_cny"),
        ({"service_minutes": 481}, "service_minutes"),
        ({"service_minutes": 10**400}, "service_minutes"),
    ],
)
def test_absurd_magnitudes_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    """Numbers past the settings' bounds (or past a float) are a 422 naming the field."""
    answer = client.post("/orders", json=order_payload(**changes), headers=admin)
    assert answer.status_code == 422, answer.text
    assert (answer.json()["field"], answer.json()["rule"]) == (field, "order_bounds")
    assert len(answer.text) < 500  # the number is not echoed back
    assert client.get("/orders", headers=admin).json() == []


def test_bounds_come_from_the_settings(settings: ServiceSettings, admin: dict[str, str]) -> None:
    """A store's own bound holds: at it an order is booked, a gram past it is refused."""
    lighter = settings.model_copy(update={"item_weight_max_kg": 100})
    with app_at(lighter, NOW) as client:
        at = client.post("/orders", json=order_payload(items=[item(weight_kg=100)]), headers=admin)
        past = client.post(
            "/orders", json=order_payload("SO-2", items=[item(weight_kg=100.001)]), headers=admin
        )
    assert at.status_code == 201, at.text
    assert (past.status_code, past.json()["field"]) == (422, "items[0].weight_kg")
    assert "at most 100" in past.json()["detail"]


def test_huge_strings_are_not_echoed(client: TestClient, admin: dict[str, str]) -> None:
    """A 1 MB customer name is a 422 naming customer, answered in a few hundred bytes."""
    answer = client.post("/orders", json=order_payload(customer="x" * 1_000_000), headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "customer"
    assert len(answer.content) < 1_000


def test_many_bad_items_get_a_short_answer(client: TestClient, admin: dict[str, str]) -> None:
    """A thousand broken items are answered with the first twenty errors, the first named."""
    body = order_payload(items=[item(quantity=0)] * 1000)
    answer = client.post("/orders", json=body, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "items[0].quantity"
    assert len(answer.json()["detail"]) == 20

"""A driver's own route, and the plan's route map page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from plan_helpers import CREWS, DAY, app_at, seed_day, store_plan

from api.core.config import ServiceSettings


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service as of the seeded morning (orders three days ahead)."""
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def published(client: TestClient, admin: dict[str, str]) -> int:
    """The seeded day planned and published."""
    seed_day(client, admin)
    plan_id = store_plan(client)
    answer = client.post(f"/plans/{plan_id}/publish", headers={**admin, "If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    return plan_id


def own_stops(crew: str) -> list[str]:
    return sorted(order for order, vehicle in CREWS.items() if vehicle == crew)


def test_driver_sees_only_their_crew(client: TestClient, key_for: KeyMaker, published: int) -> None:
    """A C01 driver gets C01's stops with items and cash to collect, nothing of C02."""
    answer = client.get(
        "/driver/route", params={"date": DAY.isoformat()}, headers=key_for("driver", "C01")
    )
    assert answer.status_code == 200, answer.text
    route = answer.json()
    assert route["vehicle_code"] == "C01" and route["plan_id"] == published
    assert sorted(s["external_id"] for s in route["stops"]) == own_stops("C01")
    assert [s["position"] for s in route["stops"]] == [1, 2, 3]
    assert all(s["items"] for s in route["stops"])
    assert {s["external_id"]: s["cash_to_collect_cny"] for s in route["stops"]}["SO-03"] == 4000
    assert route["cash_cap_cny"] == 50_000


def test_driver_cannot_ask_for_another_crew(
    client: TestClient, key_for: KeyMaker, published: int
) -> None:
    """Naming another vehicle is 403 for a driver."""
    answer = client.get(
        "/driver/route",
        params={"date": DAY.isoformat(), "vehicle": "C02"},
        headers=key_for("driver", "C01"),
    )
    assert answer.status_code == 403


def test_driver_cannot_read_the_whole_plan(
    client: TestClient, key_for: KeyMaker, published: int
) -> None:
    """The full plan, with every crew, is not for drivers."""
    assert client.get(f"/plans/{published}", headers=key_for("driver", "C01")).status_code == 403


def test_no_published_plan_is_404(
    client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """Before publishing, a driver's route is not there yet."""
    seed_day(client, admin)
    store_plan(client)
    answer = client.get(
        "/driver/route", params={"date": DAY.isoformat()}, headers=key_for("driver", "C01")
    )
    assert answer.status_code == 404
    assert "no plan is published" in answer.json()["detail"]


def test_map_page_has_a_line_per_route_and_numbered_stops(
    client: TestClient, admin: dict[str, str], published: int
) -> None:
    """The map page draws both crews' routes and all six stops."""
    answer = client.get(f"/plans/{published}/map.html", headers=admin)
    assert answer.status_code == 200
    page = answer.text
    assert page.count("L.polyline(") == 2
    assert all(customer in page for customer in ("张三", "李四", "王五"))


def test_map_page_is_not_for_drivers(client: TestClient, key_for: KeyMaker, published: int) -> None:
    """The whole-fleet map is for the back office."""
    answer = client.get(f"/plans/{published}/map.html", headers=key_for("driver", "C01"))
    assert answer.status_code == 403

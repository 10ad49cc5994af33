"""A place far from every road, on an area planning on Monaco's roads: refused when given, and
left out of the plan, named, when it was stored before the area went onto the roads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deposit_helpers import planned_by_job
from fastapi.testclient import TestClient
from plan_helpers import MONACO, ORDERS, app_at, engine_of, order_body, seed_day
from plan_helpers import violations as checker_violations
from road_helpers import extract_folder_settings
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.orders.models import Order
from api.plans.models import PlanUnassigned
from fixtures.monaco import FONTVIEILLE

SEA = (43.700, 7.460)  # the Mediterranean, kilometres off Monaco's harbour
ROADS = {"matrix_provider": "osm", "osm_extract": "monaco.osm.pbf"}


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: where the roads are does not depend on the database."""
    return "sqlite"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> ServiceSettings:
    return extract_folder_settings(database_url, tmp_path)


def _on_roads(client: TestClient, admin: dict[str, str]) -> None:
    assert client.patch("/areas/main", json=ROADS, headers=admin).status_code == 200


def _sea_order() -> dict[str, Any]:
    body = order_body(next(iter(ORDERS)), 0)
    body["external_id"], (body["lat"], body["lon"]) = "SO-SEA", SEA
    return body


def test_places_in_the_sea_are_refused_when_given(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """A depot, a bank branch or an order in the sea: 422 naming lat, and nothing stored."""
    with app_at(settings) as client:
        _on_roads(client, admin)
        place = {"lat": SEA[0], "lon": SEA[1]}
        answers = [
            client.post("/depots", json={"code": "SEA", "name": "浮仓", **place}, headers=admin),
            client.post("/orders", json=_sea_order(), headers=admin),
        ]
        depot = {"code": "WH", "name": "Fontvieille", "lat": FONTVIEILLE[0], "lon": FONTVIEILLE[1]}
        assert client.post("/depots", json=depot, headers=admin).status_code == 201
        answers.append(client.patch("/depots/WH", json=place, headers=admin))
        bank = {"code": "B1", "name": "海上银行", "address": "—", **place}
        answers.append(client.post("/banks", json=bank, headers=admin))
        for answer in answers:
            assert answer.status_code == 422, answer.text
            body = answer.json()
            assert (body["field"], body["rule"]) == ("lat", "off_road")
            assert "from the nearest drivable road" in body["detail"]
        depots = client.get("/depots", headers=admin).json()
        assert [(d["code"], d["lat"]) for d in depots] == [("WH", FONTVIEILLE[0])]
        assert client.get("/banks", headers=admin).json() == []
        assert client.get("/orders/SO-SEA", headers=admin).status_code == 404


def test_an_order_stored_in_the_sea_is_left_out_and_the_rest_planned(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """Booked on straight lines, then the area goes onto the roads: the order is named."""
    with app_at(settings) as client:
        seed_day(client, admin, MONACO)
        assert client.post("/orders", json=_sea_order(), headers=admin).status_code == 201
        _on_roads(client, admin)
        plan_id = planned_by_job(client, admin, seconds=2)
        assert checker_violations(client, plan_id) == []
        with Session(engine_of(client)) as session:
            left = session.exec(
                select(Order.external_id, PlanUnassigned.code, PlanUnassigned.reason)
                .join(Order, Order.id == PlanUnassigned.order_id)  # type: ignore[arg-type]
                .where(PlanUnassigned.plan_id == plan_id)
            ).all()
        assert [(order, code) for order, code, _ in left] == [("SO-SEA", "invalid_order")]
        assert "from the nearest drivable road" in left[0][2]
        page = client.get(f"/plans/{plan_id}/map.html", headers=admin)
        assert page.status_code == 200

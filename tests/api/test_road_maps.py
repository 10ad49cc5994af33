"""A day in Monaco planned on the roads of the real extract: stored plan and maps follow them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import published_day
from plan_helpers import DAY, MONACO, ORDERS, engine_of, routes_of, violations
from prepared import ADMIN_KEY
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.core.roads import road_provider
from api.plans.models import Plan, PlanRoute
from fixtures.monaco import FONTVIEILLE, MONACO_PBF
from optimizer.matrix import great_circle_metres
from optimizer.osm import OsmProvider

AT = dict(zip(ORDERS, MONACO[1:], strict=True))
_POLYLINE = re.compile(r"L\.polyline\(\s*(\[\[.*?\]\])", re.S)


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the roads do not depend on the database."""
    return "sqlite"


@pytest.fixture(scope="module")
def osm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("osm-cache")


@pytest.fixture
def settings(
    database_url: str, osm_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """The service on the road provider, set the way a store sets it: in the environment."""
    monkeypatch.setenv("DISPATCH_MATRIX_PROVIDER", "osm")
    monkeypatch.setenv("DISPATCH_OSM_FILE", str(MONACO_PBF))
    monkeypatch.setenv("DISPATCH_OSM_CACHE_DIR", str(osm_cache))
    return ServiceSettings(
        database_url=database_url,
        bootstrap_admin_key=ADMIN_KEY,
        run_scheduler=False,
        session_cookie_secure=False,
    )


@pytest.fixture
def day(settings: ServiceSettings, admin: dict[str, str]) -> Iterator[TestClient]:
    """The seeded day moved to Monaco, planned on its roads and published; on the day."""
    yield from published_day(settings, admin, MONACO)


def polylines(page: str) -> list[list[tuple[float, float]]]:
    """The points of every route line folium wrote into a map page."""
    return [[(lat, lon) for lat, lon in json.loads(m)] for m in _POLYLINE.findall(page)]


def assert_on_the_roads(line: list[tuple[float, float]], stops: list[tuple[float, float]]) -> None:
    """The line starts and ends at the depot, passes the stops in order, and between them has
    road points of its own: many more points than stops."""
    assert line[0] == FONTVIEILLE and line[-1] == FONTVIEILLE
    at = [line.index(stop) for stop in stops]
    assert at == sorted(at) and at[0] > 0
    assert len(line) > 5 * (len(stops) + 2)


def plan_id_of(client: TestClient) -> int:
    with Session(engine_of(client)) as session:
        plan_id = session.exec(select(Plan.id).where(Plan.date == DAY)).one()
        assert plan_id is not None
        return plan_id


def test_the_plan_is_stored_on_the_road_matrix_and_checks_clean(day: TestClient) -> None:
    """The checker recomputes the stored plan from the same road matrix: no violation."""
    plan_id = plan_id_of(day)
    assert violations(day, plan_id) == []
    roads = road_provider(day.app.state.settings)  # type: ignore[attr-defined]
    assert isinstance(roads, OsmProvider)
    with Session(engine_of(day)) as session:
        stored = session.exec(select(PlanRoute).where(PlanRoute.plan_id == plan_id)).all()
        distances = {route.vehicle_code: route.distance_m for route in stored}
    for crew, orders in routes_of(day, plan_id).items():
        points = np.array([FONTVIEILLE, *(AT[order] for order in orders), FONTVIEILLE])
        metres = roads.matrix(points).distances
        legs = [int(metres[k, k + 1]) for k in range(len(points) - 1)]
        assert distances[crew] == sum(legs)
        straight = great_circle_metres(points) * 1.3
        assert sum(legs) != round(sum(straight[k, k + 1] for k in range(len(points) - 1)))


def test_the_plan_map_follows_the_roads(day: TestClient, admin: dict[str, str]) -> None:
    """The plan's map (the board's frame) draws each crew's line along the roads."""
    answer = day.get(f"/plans/{plan_id_of(day)}/map.html", headers=admin)
    assert answer.status_code == 200, answer.text
    lines = polylines(answer.text)
    routes = routes_of(day, plan_id_of(day))
    assert sorted(routes) == ["C01", "C02"] and len(lines) == 2
    for orders in routes.values():
        stops = [AT[order] for order in orders]
        (line,) = [line for line in lines if stops[0] in line]
        assert_on_the_roads(line, stops)


def test_the_drivers_map_follows_the_roads_and_navigation_is_unchanged(
    day: TestClient, key_for: KeyMaker
) -> None:
    """The driver's map follows the roads; Amap and geo: links still name the customer's place."""
    driver = key_for("driver", "C01")
    key = driver["Authorization"].removeprefix("Bearer ")
    assert day.post("/session", json={"key": key}).status_code == 200
    answer = day.get("/app/driver/map.html")
    assert answer.status_code == 200, answer.text
    (line,) = polylines(answer.text)
    assert_on_the_roads(line, [AT[o] for o in routes_of(day, plan_id_of(day))["C01"]])
    page = day.get("/app/driver").text
    for order in routes_of(day, plan_id_of(day))["C01"]:
        lat, lon = AT[order]
        assert f"https://uri.amap.com/navigation?to={lon},{lat}," in page
        assert f'href="geo:{lat},{lon}"' in page

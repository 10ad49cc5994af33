"""An area on roads of its own: a chain's stores in different cities each name their extract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from deposit_helpers import planned_by_job
from plan_helpers import MONACO, ORDERS, app_at, engine_of, routes_of, seed_day
from plan_helpers import violations as checker_violations
from road_helpers import extract_folder_settings
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.plans.models import PlanRoute
from fixtures.monaco import FONTVIEILLE, MONACO_PBF
from optimizer.osm import OsmProvider

AT = dict(zip(ORDERS, MONACO[1:], strict=True))


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the choice of roads does not depend on the database."""
    return "sqlite"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> ServiceSettings:
    return extract_folder_settings(database_url, tmp_path)


def _area(client: Any, admin: dict[str, str], code: str) -> dict[str, Any]:
    answer = client.get(f"/areas/{code}", headers=admin)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_an_area_plans_on_its_own_extract(settings: ServiceSettings, admin: dict[str, str]) -> None:
    """main names monaco.osm.pbf: its plan is on Monaco's roads; another area stays straight."""
    with app_at(settings) as client:
        body = {"matrix_provider": "osm", "osm_extract": "monaco.osm.pbf"}
        answer = client.patch("/areas/main", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["matrix_provider"] == "osm"
        assert answer.json()["osm_extract"] == "monaco.osm.pbf"
        assert "matrix_provider" in answer.json()["overrides"]
        seed_day(client, admin, MONACO)
        plan_id = planned_by_job(client, admin, seconds=2)  # as the 15:00 job plans it
        assert checker_violations(client, plan_id) == []
        with Session(engine_of(client)) as session:
            rows = session.exec(select(PlanRoute).where(PlanRoute.plan_id == plan_id)).all()
            stored = {row.vehicle_code: row.distance_m for row in rows}
        roads = OsmProvider(MONACO_PBF, cache_dir=settings.osm_cache_dir)
        for crew, orders in routes_of(client, plan_id).items():
            points = np.array([FONTVIEILLE, *(AT[order] for order in orders), FONTVIEILLE])
            metres = roads.matrix(points).distances
            assert stored[crew] == sum(int(metres[k, k + 1]) for k in range(len(points) - 1))
        other = client.post("/areas", json={"code": "sh", "name": "浦东"}, headers=admin)
        assert other.status_code == 201, other.text
        assert (other.json()["matrix_provider"], other.json()["osm_extract"]) == (
            "great_circle",
            None,
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"osm_extract": "../osm/monaco.osm.pbf"}, "osm_extract"),
        ({"osm_extract": "/etc/passwd"}, "osm_extract"),
        ({"osm_extract": "monaco.pbf"}, "osm_extract"),
        ({"osm_extract": "shenzhen.osm.pbf", "matrix_provider": "osm"}, "osm_extract"),
        ({"matrix_provider": "osm"}, "osm_extract"),
        ({"matrix_provider": "roads"}, "matrix_provider"),
    ],
)
def test_a_bad_extract_or_provider_is_refused_and_nothing_changes(
    settings: ServiceSettings, admin: dict[str, str], body: dict[str, str], field: str
) -> None:
    """Paths, other file types, a missing extract or an unknown provider: 422 naming it."""
    with app_at(settings) as client:
        before = _area(client, admin, "main")
        answer = client.patch("/areas/main", json=body, headers=admin)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
        assert _area(client, admin, "main") == before
        assert before["matrix_provider"] == "great_circle" and before["osm_extract"] is None

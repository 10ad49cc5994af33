"""The service prepares its extracts as it starts, and /health says how each went."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from plan_helpers import app_at
from prepared import ADMIN_KEY

from api.core.config import ServiceSettings
from fixtures.monaco import MONACO_PBF


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: preparing roads does not depend on the database."""
    return "sqlite"


def _settings(database_url: str, tmp_path: Path, **roads: Any) -> ServiceSettings:
    return ServiceSettings(
        database_url=database_url,
        bootstrap_admin_key=ADMIN_KEY,
        run_scheduler=False,
        session_cookie_secure=False,
        osm_cache_dir=str(tmp_path / "osm-cache"),
        **roads,
    )


def _settled(client: TestClient) -> dict[str, Any]:
    """/health once no extract is waiting or preparing any more."""
    deadline = time.monotonic() + 30
    while True:
        body: dict[str, Any] = client.get("/health").json()
        states = [extract["state"] for extract in body.get("roads", {}).values()]
        if not {"waiting", "preparing"} & set(states) or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_the_chains_extract_is_ready_after_start(database_url: str, tmp_path: Path) -> None:
    """On Monaco's roads, /health names the extract ready, with its road nodes."""
    settings = _settings(database_url, tmp_path, matrix_provider="osm", osm_file=str(MONACO_PBF))
    with app_at(settings) as client:
        body = _settled(client)
    extract = body["roads"]["monaco.osm.pbf"]
    assert extract["state"] == "ready" and extract["road_nodes"] == 15_684
    assert body["status"] == "ok"


def test_an_areas_unreadable_extract_degrades_health(
    database_url: str, tmp_path: Path, admin: dict[str, str]
) -> None:
    """An area's extract that is no extract: named failed, status degraded, still answering."""
    folder = tmp_path / "extracts"
    folder.mkdir()
    (folder / "broken.osm.pbf").write_bytes(b"not an extract")
    settings = _settings(database_url, tmp_path, osm_dir=str(folder))
    with app_at(settings) as client:
        assert "roads" not in client.get("/health").json()
        body = {"matrix_provider": "osm", "osm_extract": "broken.osm.pbf"}
        assert client.patch("/areas/main", json=body, headers=admin).status_code == 200
    with app_at(settings) as client:
        answer = client.get("/health")
        body = _settled(client)
    assert answer.status_code == 200
    assert body["roads"]["broken.osm.pbf"]["state"] == "failed"
    said = body["roads"]["broken.osm.pbf"]["error"]
    assert "osm_file" in said and "broken.osm.pbf" in said and str(folder) not in said
    assert body["status"] == "degraded"

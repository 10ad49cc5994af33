"""Every route of the service is tested at the area scope boundary, by one of the scope files."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi.routing import APIRoute

from api.core.config import ServiceSettings
from api.main import create_app

# Routes with nothing of an area behind them: the sign-in page itself and the API's schema.
# GET /health names no data of any store (database, runner, a chain-wide queue length).
WITHOUT_AREA = {("GET", "/app/sign-in"), ("GET", "/health")}


def _routes(tmp_path: Path) -> set[tuple[str, str]]:
    settings = ServiceSettings(database_url=f"sqlite:///{tmp_path}/x.db", run_scheduler=False)
    app = create_app(settings)
    found: set[tuple[str, str]] = set()
    for mounted in app.routes:
        # Included routers keep their own routes, full paths and all.
        router = getattr(mounted, "original_router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute):
                found |= {(method, route.path) for method in route.methods}
    return found


def _covered() -> set[tuple[str, str]]:
    covered: set[tuple[str, str]] = set()
    for path in sorted(Path(__file__).parent.glob("test_scope_*.py")):
        if path.stem != Path(__file__).stem:
            covered |= importlib.import_module(path.stem).COVERED
    return covered


def test_every_route_has_a_scope_boundary_test(tmp_path: Path) -> None:
    """A route no scope file covers fails here, so a new route cannot skip the boundary."""
    routes = _routes(tmp_path)
    assert len(routes) > 90
    missing = sorted(routes - _covered() - WITHOUT_AREA)
    assert missing == []
    assert sorted(_covered() - routes) == []  # a renamed route leaves no stale entry behind

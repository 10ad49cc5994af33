"""`dispatch plan --map` on the road provider: the exported map follows Monaco's roads."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from itertools import cycle
from pathlib import Path

import pytest

from api.cli import main
from api.core.config import get_service_settings
from fixtures.generator import generate_day
from fixtures.monaco import (
    CASINO,
    CONDAMINE,
    FONTVIEILLE,
    JARDIN_EXOTIQUE,
    LARVOTTO,
    MONACO_PBF,
    MONEGHETTI,
    PORT,
)
from optimizer.settings import get_settings

VISIT_PLACES = [CASINO, PORT, LARVOTTO, MONEGHETTI, JARDIN_EXOTIQUE, CONDAMINE]
_POLYLINE = re.compile(r"L\.polyline\(\s*(\[\[.*?\]\])", re.S)


@pytest.fixture
def on_roads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's settings name the road provider and Monaco's extract, as a store's would."""
    monkeypatch.setenv("DISPATCH_MATRIX_PROVIDER", "osm")
    monkeypatch.setenv("DISPATCH_OSM_FILE", str(MONACO_PBF))
    monkeypatch.setenv("DISPATCH_OSM_CACHE_DIR", str(tmp_path / "osm-cache"))
    monkeypatch.setenv("DISPATCH_MAP_TILES", "none")
    get_settings.cache_clear()
    get_service_settings.cache_clear()
    yield
    get_settings.cache_clear()
    get_service_settings.cache_clear()


def test_exported_map_draws_the_routes_on_the_roads(on_roads: None, tmp_path: Path) -> None:
    """A day moved into Monaco is planned; each crew's exported line runs along the roads."""
    day = generate_day(seed=3, visits=6, trucks=2, technicians=0, date="2026-11-24", depots=1)
    for depot in day["depots"]:
        depot["lat"], depot["lon"] = FONTVIEILLE
    for visit, (lat, lon) in zip(day["visits"], cycle(VISIT_PLACES), strict=False):
        visit["lat"], visit["lon"] = lat, lon
    source, out, page = tmp_path / "monaco.json", tmp_path / "plan.json", tmp_path / "map.html"
    source.write_text(json.dumps(day, ensure_ascii=False))
    args = ["plan", str(source), "--date", "2026-11-24", "--seconds", "1"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main([*args, "--out", str(out), "--map", str(page)]) == 0
    at = {visit["id"]: (visit["lat"], visit["lon"]) for visit in day["visits"]}
    routes = [r for r in json.loads(out.read_text())["routes"] if r["stops"]]
    found = _POLYLINE.findall(page.read_text(encoding="utf-8"))
    lines = [[(lat, lon) for lat, lon in json.loads(text)] for text in found]
    assert routes and len(lines) == len(routes)
    for route, line in zip(routes, lines, strict=True):
        stops = [at[stop["visit_id"]] for stop in route["stops"]]
        assert line[0] == FONTVIEILLE and line[-1] == FONTVIEILLE
        assert [line.index(stop) for stop in stops] == sorted(line.index(s) for s in stops)
        assert len(line) > 5 * (len(stops) + 2)

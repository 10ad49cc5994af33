"""Routes drawn along the roads of a real extract (Monaco) when a road path is given."""

from __future__ import annotations

import folium
import numpy as np
import pytest
from map_tree import walk

from fixtures.monaco import CASINO, CONDAMINE, FONTVIEILLE, MONACO_PBF, MONEGHETTI, PORT
from maps.plan_map import Point, plan_map, route_map
from optimizer.data import ProblemData
from optimizer.matrix import great_circle_metres
from optimizer.model import Model
from optimizer.osm import OsmProvider
from optimizer.result import Deposit, Kpis, Result, Route, Status, Stop

H = 3600
VISITS = {"casino": CASINO, "port": PORT, "moneghetti": MONEGHETTI}
BANK = CONDAMINE
# depot, casino, bank, port, moneghetti, depot: the order the line must pass them in
STOPS = [FONTVIEILLE, CASINO, BANK, PORT, MONEGHETTI, FONTVIEILLE]


@pytest.fixture(scope="module")
def monaco(tmp_path_factory: pytest.TempPathFactory) -> OsmProvider:
    return OsmProvider(MONACO_PBF, cache_dir=tmp_path_factory.mktemp("osm-cache"))


def _data(monaco: OsmProvider) -> ProblemData:
    model = Model()
    model.add_depot("WH", lat=FONTVIEILLE[0], lon=FONTVIEILLE[1], name="Fontvieille")
    model.add_vehicle("C01", depot=0, shift=(8 * H, 18 * H), weight_kg=1000, volume_m3=10)
    for visit_id, (lat, lon) in VISITS.items():
        model.add_visit(visit_id, lat=lat, lon=lon, window=(8 * H, 18 * H), service_s=600)
    model.add_bank("BANK", lat=BANK[0], lon=BANK[1], hours=(9 * H, 17 * H), name="Banque")
    return model.data(monaco)


def _result() -> Result:
    stops = tuple(
        Stop(visit_id, t * H, t * H, t * H + 600, 0, 0, 0, 6000)
        for t, visit_id in enumerate(VISITS, start=9)
    )
    banked = Deposit("BANK", 1, 10 * H - 900, 10 * H - 900, 10 * H - 600, 100_000, 6000)
    route = Route("C01", 8 * H, 13 * H, stops, 9_000, (banked,))
    kpis = Kpis(3, 3, 0, 1, 9_000, 5 * H, 0.4)
    return Result(Status.FEASIBLE, (route,), (), kpis, objective=0, seconds=0.1, seed=1)


def _line(fmap: folium.Map) -> list[Point]:
    (line,) = [child for child in walk(fmap) if isinstance(child, folium.PolyLine)]
    return [(float(lat), float(lon)) for lat, lon in line.locations]


def test_without_roads_every_leg_is_straight(monaco: OsmProvider) -> None:
    """With no road path the line joins the depot, the stops and the bank directly."""
    assert _line(plan_map(_data(monaco), _result())) == STOPS


@pytest.mark.parametrize("draw", [plan_map, lambda d, r, **kw: route_map(d, r, "C01", **kw)])
def test_with_roads_the_line_follows_the_road_graph(monaco: OsmProvider, draw: object) -> None:
    """The line passes each stop and the bank in order, and only road graph nodes between."""
    data = _data(monaco)
    line = _line(draw(data, _result(), roads=monaco.path))  # type: ignore[operator]
    assert len(line) > 10 * len(STOPS)
    assert line[0] == FONTVIEILLE and line[-1] == FONTVIEILLE
    at = [line.index(stop) for stop in STOPS[:-1]] + [len(line) - 1]
    assert at == sorted(at) and len(set(at)) == len(STOPS)
    nodes = {(float(lat), float(lon)) for lat, lon in monaco.graph.coords}
    between = [point for point in line if point not in STOPS]
    assert len(between) == len(line) - len(STOPS)
    assert all(point in nodes for point in between)
    # neighbouring points are one road segment apart, never a jump across the town
    points = np.array(line)
    steps = [great_circle_metres(points[k : k + 2])[0, 1] for k in range(len(points) - 1)]
    assert max(steps) < 300


def test_roads_do_not_move_the_markers(monaco: OsmProvider) -> None:
    """Stop, bank and depot markers stay at their own places when the legs follow roads."""
    data = _data(monaco)
    fmap = plan_map(data, _result(), roads=monaco.path)
    markers = {
        (float(m.location[0]), float(m.location[1]))
        for m in walk(fmap)
        if isinstance(m, folium.Marker)
    }
    assert markers == set(STOPS)

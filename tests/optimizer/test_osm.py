"""The road-network provider on real OpenStreetMap extracts (fixtures/osm, ODbL)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from fixtures.generator import generate_day
from optimizer import SolveParams, solve
from optimizer.check import check
from optimizer.dayfile import load_day
from optimizer.matrix import great_circle_metres, osm_options, provider_from_settings
from optimizer.osm import OsmProvider
from optimizer.settings import DispatchSettings

OSM = Path(__file__).resolve().parents[2] / "fixtures" / "osm"
MONACO = OSM / "monaco.osm.pbf"
SEA = (43.700, 7.460)  # the Mediterranean, kilometres off Monaco's harbour


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("osm-cache")


@pytest.fixture(scope="module")
def monaco(cache_dir: Path) -> OsmProvider:
    return OsmProvider(MONACO, cache_dir=cache_dir)


def land_points(provider: OsmProvider, count: int, seed: int) -> np.ndarray:
    """Random road nodes of the extract, moved a few metres off the road."""
    rng = np.random.default_rng(seed)
    nodes = provider._graph["coords"][rng.choice(provider._snappable, count, replace=False)]
    return nodes + rng.normal(0.0, 0.00005, nodes.shape)


def test_one_way_street_differs_by_direction(monaco: OsmProvider) -> None:
    """Along a one-way street A→B is shorter than B→A, which must go round."""
    graph = monaco._graph
    pairs = set(zip(graph["tail"].tolist(), graph["head"].tolist(), strict=True))
    main = set(monaco._snappable.tolist())
    one_way = [(u, v) for u, v in pairs if (v, u) not in pairs and u in main and v in main]
    assert len(one_way) > 100
    u, v = max(
        one_way, key=lambda e: float(np.hypot(*(graph["coords"][e[0]] - graph["coords"][e[1]])))
    )
    result = monaco.matrix(graph["coords"][[u, v]])
    assert result.distances[0, 1] != result.distances[1, 0]
    assert result.durations[0, 1] < result.durations[1, 0]


def test_road_distance_is_at_least_the_straight_line(monaco: OsmProvider) -> None:
    """No road distance is shorter than the great-circle distance between the points."""
    points = land_points(monaco, 300, seed=1)
    result = monaco.matrix(points)
    straight = great_circle_metres(points)
    assert np.all(result.distances >= np.floor(straight) - 1)
    off = ~np.eye(len(points), dtype=bool)
    assert np.all(result.durations[off] > 0)


def test_point_in_the_sea_is_refused_naming_it(monaco: OsmProvider) -> None:
    """A point far from every road is refused with its index in the message."""
    points = np.vstack([land_points(monaco, 3, seed=2), [SEA]])
    with pytest.raises(ValueError, match=r"point 3: .* from the nearest drivable road"):
        monaco.matrix(points)


def test_second_provider_loads_from_cache_and_a_changed_file_is_rebuilt(
    monaco: OsmProvider, cache_dir: Path, tmp_path: Path
) -> None:
    """The same extract is served from the cache; another file's hash is never served it."""
    again = OsmProvider(MONACO, cache_dir=cache_dir)
    assert again.loaded_from_cache and again.node_count == monaco.node_count
    helsinki = tmp_path / "city.osm.pbf"
    shutil.copy(OSM / "helsinki.osm.pbf", helsinki)
    first = OsmProvider(helsinki, cache_dir=cache_dir)
    assert not first.loaded_from_cache and first.node_count != monaco.node_count


def test_missing_or_unreadable_extract_is_refused(tmp_path: Path) -> None:
    """A missing file and a file that is no extract are refused naming osm_file."""
    with pytest.raises(ValueError, match="osm_file"):
        OsmProvider(tmp_path / "none.osm.pbf", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="osm_file"):
        DispatchSettings(matrix_provider="osm", osm_file=str(tmp_path / "none.osm.pbf"))
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not an extract")
    with pytest.raises(ValueError, match="osm_file"):
        OsmProvider(junk, cache_dir=tmp_path)


def test_generated_day_on_monaco_roads_passes_the_checker(
    monaco: OsmProvider, cache_dir: Path
) -> None:
    """A generated day moved onto Monaco's roads is planned with every rule and checks clean."""
    content = generate_day(seed=7, visits=40, trucks=4, technicians=1, date="2026-11-24")
    points = land_points(monaco, len(content["depots"]) + len(content["visits"]), seed=3)
    for place, (lat, lon) in zip(
        [*content["depots"], *content["visits"]], points.tolist(), strict=True
    ):
        place["lat"], place["lon"] = round(lat, 6), round(lon, 6)
    settings = DispatchSettings(
        matrix_provider="osm", osm_file=str(MONACO), osm_cache_dir=str(cache_dir)
    )
    provider = provider_from_settings(
        "osm", detour_factor=1.3, speed_kmh=25.0, osm=osm_options(settings)
    )
    data = load_day(content, dt.date(2026, 11, 24), settings, provider).data
    result = solve(data, SolveParams(time_limit_s=3))
    assert sum(len(route.stops) for route in result.routes) > 0
    assert check(data, result) == []


def test_helsinki_extract_gives_a_matrix(tmp_path: Path) -> None:
    """The provider works on a second real extract (a part of Helsinki)."""
    provider = OsmProvider(OSM / "helsinki.osm.pbf", cache_dir=tmp_path)
    points = land_points(provider, 50, seed=4)
    result = provider.matrix(points)
    assert result.distances.shape == (50, 50)
    assert np.all(result.distances >= np.floor(great_circle_metres(points)) - 1)

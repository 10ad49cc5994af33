"""The road-network provider on real OpenStreetMap extracts (fixtures/osm, ODbL)."""

from __future__ import annotations

import datetime as dt
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fixtures.generator import generate_day
from optimizer import SolveParams, solve
from optimizer.check import check
from optimizer.dayfile import load_day
from optimizer.matrix import PointRefused, great_circle_metres, osm_options, provider_from_settings
from optimizer.model import Model
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
    roads = provider.road_points()
    nodes = roads[rng.choice(len(roads), count, replace=False)]
    return nodes + rng.normal(0.0, 0.00005, nodes.shape)


def test_one_way_street_differs_by_direction(monaco: OsmProvider) -> None:
    """Along a one-way street A→B is shorter than B→A, which must go round."""
    graph = monaco.graph
    pairs = set(zip(graph.tail.tolist(), graph.head.tolist(), strict=True))
    main = set(graph.connected.tolist())
    one_way = [(u, v) for u, v in pairs if (v, u) not in pairs and u in main and v in main]
    assert len(one_way) > 100
    u, v = max(one_way, key=lambda e: float(np.hypot(*(graph.coords[e[0]] - graph.coords[e[1]]))))
    result = monaco.matrix(graph.coords[[u, v]])
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


def test_contraction_hierarchy_matches_plain_dijkstra(monaco: OsmProvider) -> None:
    """CCH times are Dijkstra's up to arc rounding; no distance beats the shortest road."""
    graph = monaco.graph
    n = monaco.node_count
    points = land_points(monaco, 80, seed=5)
    nodes, gaps = monaco.snap(points)
    result = monaco.matrix(points)
    access = gaps[:, None] + gaps[None, :]
    off = ~np.eye(len(points), dtype=bool)

    def plain(weight: np.ndarray) -> np.ndarray:
        adjacency = csr_matrix((weight, (graph.tail, graph.head)), shape=(n, n))
        return dijkstra(adjacency, indices=nodes)[:, nodes]

    fastest = plain(graph.seconds) + access / (5.0 / 3.6)
    assert np.abs(result.durations - fastest)[off].max() <= 3.0
    # Arcs and the result are rounded (to decimetres, then metres): a few metres either way.
    shortest = plain(graph.metres) + access
    assert np.all(result.distances[off] >= shortest[off] - 3)
    assert np.median(result.distances[off] / shortest[off]) < 1.1


def test_drawn_path_is_the_measured_one(monaco: OsmProvider) -> None:
    """Each leg's drawn road runs along graph arcs and is as long as the matrix says."""
    graph = monaco.graph
    arcs = {
        (u, v): m
        for u, v, m in zip(graph.tail.tolist(), graph.head.tolist(), graph.metres, strict=True)
    }
    points = land_points(monaco, 6, seed=6)
    result = monaco.matrix(points)
    legs = [(tuple(points[i]), tuple(points[j])) for i in range(6) for j in range(6) if i != j]
    nodes, gaps = monaco.snap(points)
    index = {tuple(p): k for k, p in enumerate(points.tolist())}
    coords_to_node = {tuple(graph.coords[node]): node for node in range(monaco.node_count)}
    for (a, b), drawn in zip(legs, monaco.paths(legs), strict=True):
        i, j = index[a], index[b]
        assert drawn[0] == a and drawn[-1] == b
        chain = [coords_to_node[p] for p in drawn[1:-1]]
        assert chain[0] == nodes[i] and chain[-1] == nodes[j]
        length = sum(arcs[(u, v)] for u, v in zip(chain, chain[1:], strict=False))
        assert abs(length + gaps[i] + gaps[j] - result.distances[i, j]) <= 2.0


def test_a_leg_from_the_sea_is_refused_naming_the_leg(monaco: OsmProvider) -> None:
    """Drawing a leg that starts in the sea names that leg."""
    land = tuple(land_points(monaco, 1, seed=7)[0])
    with pytest.raises(ValueError, match=r"leg 1 start: .* from the nearest drivable road"):
        monaco.paths([(land, land), (SEA, land)])


def test_one_provider_serves_other_threads(monaco: OsmProvider) -> None:
    """Request threads share the provider built in another: same matrices, same paths."""
    points = land_points(monaco, 20, seed=8)
    legs = [(tuple(points[0]), tuple(points[1])), (tuple(points[2]), tuple(points[3]))]
    here = monaco.matrix(points)
    with ThreadPoolExecutor(max_workers=2) as pool:
        matrices = list(pool.map(monaco.matrix, [points, points]))
        drawn = pool.submit(monaco.paths, legs).result()
    for there in matrices:
        assert np.array_equal(there.durations, here.durations)
        assert np.array_equal(there.distances, here.distances)
    assert drawn == monaco.paths(legs)


def test_the_model_names_the_place_in_the_sea(monaco: OsmProvider) -> None:
    """Freezing a model on the roads names the visit (or bank) that is off them."""
    land = land_points(monaco, 3, seed=9).tolist()
    for family in ("visit", "bank"):
        model = Model()
        model.add_depot("D", lat=land[0][0], lon=land[0][1])
        model.add_visit("V1", lat=land[1][0], lon=land[1][1], window=(0, 3600), service_s=60)
        at_sea = {"lat": SEA[0], "lon": SEA[1]}
        if family == "visit":
            model.add_visit("V2", window=(0, 3600), service_s=60, **at_sea)
        else:
            model.add_bank("V2", hours=(0, 3600), **at_sea)
        with pytest.raises(
            PointRefused, match=rf"{family} 'V2': lat, lon: .* nearest drivable road"
        ):
            model.data(monaco)
        with pytest.raises(PointRefused) as refused:
            model.data(monaco)
        assert (refused.value.family, refused.value.place_id) == (family, "V2")

"""Road-network matrices: preparing the graph, many-to-many matrices, peak memory, road km.

`python -m benchmarks.matrix` times the OpenStreetMap provider (optimizer.osm) on the real
extracts in fixtures/osm: preparing the truck graph cold and from its cache, matrices of
500, 2,000 and 5,000 random points snapped inside the extract, with the searches alone against
the peer of the same run (scipy's plain Dijkstra from every point, durations only), this
process's peak resident memory, and the road km of a planned day against straight line x 1.3
over the same legs (and of the day planned on straight lines, driven on the roads). Figures go
to benchmarks/results/matrix-<extract>.json, with a plot of the matrix times (.png).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fixtures.generator import generate_day
from optimizer import SolveParams, solve
from optimizer.check import check as check_plan
from optimizer.data import ProblemData
from optimizer.dayfile import load_day
from optimizer.matrix import GreatCircleProvider
from optimizer.osm import OsmProvider
from optimizer.result import Result
from optimizer.settings import DispatchSettings

OSM = Path(__file__).resolve().parents[1] / "fixtures" / "osm"
RESULTS = Path(__file__).resolve().parent / "results"


def _points(provider: OsmProvider, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    roads = provider.road_points()
    nodes = roads[rng.choice(len(roads), count)]
    return nodes + rng.normal(0.0, 0.00005, nodes.shape)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def road_against_straight(provider: OsmProvider, visits: int, seconds: float) -> dict[str, Any]:
    """A generated day planned on the extract's roads, and again on straight lines x 1.3.

    The road plan's legs are summed by road and by straight line x 1.3; the straight-line
    plan is then driven on the roads: its road km, and the checker's count of the visits it
    would reach too late or that break another rule once the times are the roads'.
    """
    content = generate_day(seed=11, visits=visits, trucks=6, technicians=1, date="2026-11-24")
    places = [*content["depots"], *content["visits"]]
    for place, (lat, lon) in zip(places, _points(provider, len(places), 5).tolist(), strict=True):
        place["lat"], place["lon"] = round(lat, 6), round(lon, 6)
    on = dt.date(2026, 11, 24)
    settings = DispatchSettings()
    road = load_day(content, on, settings, provider).data
    straight = load_day(content, on, settings, GreatCircleProvider()).data
    on_roads = solve(road, SolveParams(time_limit_s=seconds))
    on_lines = solve(straight, SolveParams(time_limit_s=seconds))
    driven = check_plan(road, on_lines)
    late = {violation.visit_id for violation in driven if violation.rule == "schedule"}
    return {
        "visits": visits,
        "served": _served(on_roads),
        "checker_violations": len(check_plan(road, on_roads)),
        "road_km": _km(road, on_roads),
        "straight_x1_3_km": _km(straight, on_roads),
        "road_over_straight_x1_3": round(
            _km(road, on_roads) / max(_km(straight, on_roads), 0.1), 3
        ),
        "straight_plan": {
            "served": _served(on_lines),
            "planned_km": _km(straight, on_lines),
            "driven_road_km": _km(road, on_lines),
            "visits_late_on_roads": len(late),
            "rules_broken_on_roads": sorted({violation.rule for violation in driven}),
        },
    }


def _served(result: Result) -> int:
    return sum(len(route.stops) for route in result.routes)


def _km(data: ProblemData, result: Result) -> float:
    """The plan's routes measured on `data`'s distances."""
    metres = 0
    for route in result.routes:
        visits = [data.visit_index(stop.visit_id) for stop in route.stops]
        nodes = data.route_nodes(data.vehicle_index(route.vehicle_id), visits)
        metres += sum(int(data.distances[a, b]) for a, b in zip(nodes, nodes[1:], strict=False))
    return round(metres / 1000, 1)


def search_seconds(provider: OsmProvider, points: np.ndarray) -> tuple[float, float]:
    """The searches alone, from every distinct snapped node to all of them: the contraction
    hierarchies' two metrics, and the peer, scipy's plain Dijkstra (durations only)."""
    graph, n = provider.graph, provider.node_count
    nodes = np.unique(provider.snap(points)[0])
    started = time.perf_counter()
    provider.node_tables(nodes)
    ours = time.perf_counter() - started
    adjacency = csr_matrix((graph.seconds, (graph.tail, graph.head)), shape=(n, n))
    started = time.perf_counter()
    for start in range(0, len(nodes), 256):
        dijkstra(adjacency, indices=nodes[start : start + 256])[:, nodes]
    return ours, time.perf_counter() - started


def run(extract: str, sizes: list[int], plan_seconds: float) -> dict[str, Any]:
    path = OSM / f"{extract}.osm.pbf"
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        provider = OsmProvider(path, cache_dir=cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        provider = OsmProvider(path, cache_dir=cache)
        warm = time.perf_counter() - started
        assert provider.loaded_from_cache
    matrices = []
    for size in sizes:
        points = _points(provider, size, seed=size)
        started = time.perf_counter()
        provider.matrix(points)
        seconds = time.perf_counter() - started
        searches, plain = search_seconds(provider, points)
        matrices.append(
            {
                "points": size,
                "distinct_nodes": len(np.unique(provider.snap(points)[0])),
                "seconds": round(seconds, 4),
                "search_seconds": round(searches, 4),
                "plain_dijkstra_search_seconds": round(plain, 4),
                "search_over_plain_dijkstra": round(searches / plain, 3),
            }
        )
        print(
            f"{extract}: {size} points in {seconds:.2f} s; searches {searches:.2f} s "
            f"against plain Dijkstra's {plain:.2f} s",
            flush=True,
        )
    return {
        "extract": extract,
        "graph_nodes": provider.node_count,
        "graph_edges": len(provider.graph.tail),
        "prepare_cold_s": round(cold, 3),
        "prepare_from_cache_s": round(warm, 3),
        "matrices": matrices,
        "plan": road_against_straight(provider, 60, plan_seconds),
        "peak_rss_mb": _peak_mb(),
    }


def plot(figures: dict[str, Any], path: Path) -> None:
    """Matrix seconds against points: the contraction hierarchies and the plain Dijkstra."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    rows = figures["matrices"]
    points = [row["points"] for row in rows]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(points, [row["seconds"] for row in rows], "o-", label="whole matrix (ours)")
    axes.plot(
        points,
        [row["search_seconds"] for row in rows],
        "^-",
        label="searches: contraction hierarchies",
    )
    axes.plot(
        points,
        [row["plain_dijkstra_search_seconds"] for row in rows],
        "s--",
        label="searches: plain Dijkstra (durations only)",
    )
    axes.set_xlabel("points")
    axes.set_ylabel("seconds")
    axes.set_title(f"{figures['extract']}: {figures['graph_nodes']:,} road nodes, 2 cores")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", choices=["monaco", "helsinki"], default="monaco")
    parser.add_argument("--sizes", default="500,2000,5000")
    parser.add_argument("--plan-seconds", type=float, default=10.0)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = run(args.extract, sizes, args.plan_seconds)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"matrix-{args.extract}.json"
    out.write_text(json.dumps(figures, indent=1) + "\n")
    plot(figures, out.with_suffix(".png"))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

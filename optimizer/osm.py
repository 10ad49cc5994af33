"""Travel distances and times on the road network of an OpenStreetMap extract, in-process.

The truck graph (`optimizer.osm_graph`) is prepared once for many-to-many queries with
RoutingKit's customizable contraction hierarchies: a nested-dissection node order, computed
from the graph alone and cached on disk with it (keyed by the extract's SHA-256 and the
settings that shape it), then two metrics customised on every load:

- time, in tenths of a second per arc: the durations;
- time × 2048 + decimetres: among the fastest paths, the shortest. Its value minus 2048 × the
  fastest time is that path's length, so a distance belongs to the path the duration does.
  (When a slower path is shorter by more than 204.8 m per tenth of a second, the figure lies
  between the two paths' lengths; it is never below the road's shortest distance.)

Each point is snapped to the nearest node of the largest strongly connected part of the
graph; the straight line from the point to that node is added at `access_speed_kmh` (a slow
crawl to the kerb), both ways.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from optimizer.matrix import EARTH_RADIUS_M, PointRefused, TravelMatrix
from optimizer.osm_graph import build_graph, file_sha256, haversine_m
from optimizer.settings import DEFAULT_ROAD_SPEEDS_KMH

if TYPE_CHECKING:
    from collections.abc import Sequence

CACHE_VERSION = 2  # 2: the contraction order is cached with the graph
UNREACHABLE = 10**9
TICKS_PER_S = 10
DECIMETRES_PER_M = 10
# Length rides below the time in the tie-break metric; RoutingKit's weights stop at 2**31 - 1,
# so a path's time may reach 2**31 / 2048 tenths of a second (29 hours) before it overflows.
LENGTH_BELOW_TIME = 2048

Point = tuple[float, float]


@dataclass(frozen=True)
class RoadGraph:
    """The prepared graph: node (lat, lon), arcs, and the nodes points may snap to."""

    coords: NDArray[np.float64]
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    metres: NDArray[np.float64]
    seconds: NDArray[np.float64]
    connected: NDArray[np.int64]


class _Hierarchy:
    """RoutingKit's CCH over the graph, with the time and the time-then-length metrics."""

    def __init__(self, graph: dict[str, NDArray]) -> None:
        import routingkit_cch as rk  # imported here: only the road provider needs it

        self._rk = rk
        tail, head = graph["tail"].tolist(), graph["head"].tolist()
        cch = rk.CCH(graph["order"].tolist(), tail, head, False)
        ticks = np.maximum(1, np.rint(graph["seconds"] * TICKS_PER_S)).astype(np.int64)
        decimetres = np.rint(graph["metres"] * DECIMETRES_PER_M).astype(np.int64)
        length = ticks * LENGTH_BELOW_TIME + decimetres
        self._cch = cch  # the metrics borrow it
        self._time = rk.CCHMetric(cch, ticks.tolist())
        self._length = rk.CCHMetric(cch, length.tolist())

    def tables(self, nodes: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
        """Seconds and metres between every pair of nodes (inf where unreachable)."""
        targets = nodes.tolist()
        ticks = _table(self._rk, self._time, targets)
        tied = _table(self._rk, self._length, targets)
        metres = (tied - LENGTH_BELOW_TIME * ticks) / DECIMETRES_PER_M
        metres[~np.isfinite(metres)] = np.inf
        return ticks / TICKS_PER_S, metres

    def node_path(self, source: int, target: int) -> list[int]:
        """The nodes of the path the distances measure, from source to target."""
        result = self._rk.CCHQuery(self._length).run(source, target)
        return list(result.node_path) if result.distance is not None else []


def _table(rk: Any, metric: Any, sources: list[int]) -> NDArray[np.float64]:
    """One metric's sweep from every source to the pinned targets; inf where unreachable."""
    # A query object belongs to the thread that made it (the binding refuses any other), so
    # each call makes its own and one provider serves every request thread.
    query = rk.CCHOneToMany(metric, sources)
    table = np.empty((len(sources), len(sources)))
    # Row by row: the answers are Python lists, and a whole table of them would hold every
    # entry as an object at once.
    for row, source in enumerate(sources):
        answer = query.distances_from(source)
        try:
            table[row] = np.fromiter(answer, dtype=np.int64, count=len(sources))
        except TypeError:  # None: no path, or one past the weight limit
            table[row] = [np.inf if value is None else value for value in answer]
    return table


def contraction_order(graph: dict[str, NDArray]) -> NDArray[np.int64]:
    """RoutingKit's inertial nested-dissection order: the slow, weight-free preparation."""
    import routingkit_cch as rk

    coords = graph["coords"]
    order = rk.compute_order_inertial(
        len(coords),
        graph["tail"].tolist(),
        graph["head"].tolist(),
        coords[:, 0].tolist(),
        coords[:, 1].tolist(),
    )
    return np.asarray(order, dtype=np.int64)


@dataclass
class OsmProvider:
    """Road-network matrices from an OpenStreetMap extract (see the module docstring)."""

    osm_file: str | Path
    speeds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_ROAD_SPEEDS_KMH))
    snap_limit_m: float = 500.0
    cache_dir: str | Path = ".cache/osm"
    vehicle_weight_t: float = 3.5
    vehicle_height_m: float = 3.2
    access_speed_kmh: float = 5.0
    loaded_from_cache: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        path = Path(self.osm_file)
        if not path.is_file():
            raise ValueError(f"osm_file: no such file {path}")
        if not self.snap_limit_m > 0:
            raise ValueError("snap_limit_m: must be positive")
        if not self.access_speed_kmh > 0:
            raise ValueError("access_speed_kmh: must be positive")
        if not self.speeds or any(not s > 0 for s in self.speeds.values()):
            raise ValueError("speeds: every road class speed must be positive")
        stored = self._load(path)
        self._hierarchy = _Hierarchy(stored)
        coords = stored["coords"]
        self._lat0 = float(np.radians(coords[:, 0].mean()))
        self.graph = RoadGraph(
            coords=coords,
            tail=stored["tail"],
            head=stored["head"],
            metres=stored["metres"],
            seconds=stored["seconds"],
            connected=stored["connected"],
        )
        self._tree = cKDTree(self._project(coords[self.graph.connected]))

    def _cache_key(self, path: Path) -> str:
        shaping = {
            "v": CACHE_VERSION,
            "speeds": sorted(self.speeds.items()),
            "weight": self.vehicle_weight_t,
            "height": self.vehicle_height_m,
        }
        settings_hash = hashlib.sha256(json.dumps(shaping).encode()).hexdigest()[:16]
        return f"{file_sha256(path)}-{settings_hash}"

    def _load(self, path: Path) -> dict[str, NDArray]:
        cache = Path(self.cache_dir) / f"{self._cache_key(path)}.npz"
        if cache.is_file():
            with np.load(cache) as stored:
                self.loaded_from_cache = True
                return {key: stored[key] for key in stored.files}
        graph = _prepare(path, self.speeds, self.vehicle_weight_t, self.vehicle_height_m)
        cache.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a process reading the cache never sees half a file.
        partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **graph)  # type: ignore[arg-type]
        partial.replace(cache)
        return graph

    def _project(self, latlon: NDArray[np.float64]) -> NDArray[np.float64]:
        rad = np.radians(latlon)
        return np.column_stack(
            (rad[:, 1] * np.cos(self._lat0) * EARTH_RADIUS_M, rad[:, 0] * EARTH_RADIUS_M)
        )

    @property
    def node_count(self) -> int:
        return len(self.graph.coords)

    def road_points(self) -> NDArray[np.float64]:
        """(lat, lon) of every node a point may snap to."""
        return self.graph.coords[self.graph.connected]

    def snap(self, coords: Any) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Nearest graph node of each (lat, lon) row and the metres to it; refuses far points."""
        points = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        _, nearest = self._tree.query(self._project(points))
        nodes = self.graph.connected[np.asarray(nearest, dtype=np.int64)]
        gaps = haversine_m(points, self.graph.coords[nodes])
        far = np.flatnonzero(gaps > self.snap_limit_m)
        if far.size:
            i = int(far[0])
            raise PointRefused(
                i,
                f"({points[i, 0]:.6f}, {points[i, 1]:.6f}) is {gaps[i]:.0f} m from the nearest "
                f"drivable road, more than snap_limit_m={self.snap_limit_m:.0f}",
            )
        return nodes, gaps

    def matrix(self, coords: NDArray[np.float64]) -> TravelMatrix:
        nodes, gaps = self.snap(coords)
        unique, inverse = np.unique(nodes, return_inverse=True)
        seconds_k, metres_k = self.node_tables(unique)
        lost_k = ~(np.isfinite(seconds_k) & np.isfinite(metres_k))
        seconds_k[lost_k] = metres_k[lost_k] = 0.0
        # In place from here on: at 5,000 points each full matrix is 200 MB, and every
        # temporary one costs as much time as the searches did.
        pairs = np.ix_(inverse, inverse)
        seconds, metres = seconds_k[pairs], metres_k[pairs]
        walk = gaps / (self.access_speed_kmh / 3.6)
        seconds += walk[:, None]
        seconds += walk[None, :]
        metres += gaps[:, None]
        metres += gaps[None, :]
        if lost_k.any():
            lost = lost_k[pairs]
            seconds[lost] = metres[lost] = UNREACHABLE
        np.fill_diagonal(seconds, 0.0)
        np.fill_diagonal(metres, 0.0)
        np.rint(seconds, out=seconds)
        np.rint(metres, out=metres)
        return TravelMatrix(distances=metres.astype(np.int64), durations=seconds.astype(np.int64))

    def node_tables(self, nodes: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
        """Seconds and metres between graph nodes (inf where unreachable): the searches alone."""
        return self._hierarchy.tables(nodes)

    def path(self, a: Point, b: Point) -> list[Point]:
        """The road geometry of the path from a to b that the matrices measure, as (lat, lon)."""
        return self.paths([(a, b)])[0]

    def paths(self, legs: Sequence[tuple[Point, Point]]) -> list[list[Point]]:
        """`path` for each leg; the points are snapped together, so one bad point names its leg."""
        if not legs:
            return []
        ends = np.array([end for leg in legs for end in leg], dtype=np.float64)
        try:
            nodes, _ = self.snap(ends)
        except PointRefused as error:
            end = ("start", "end")[error.index % 2]
            label = f"leg {error.index // 2} {end}"
            raise PointRefused(error.index, error.detail, label=label) from None
        coords = self.graph.coords
        drawn = []
        for i, (a, b) in enumerate(legs):
            chain = self._hierarchy.node_path(int(nodes[2 * i]), int(nodes[2 * i + 1]))
            drawn.append([a, *[(float(coords[n, 0]), float(coords[n, 1])) for n in chain], b])
        return drawn


def _prepare(
    path: Path, speeds: dict[str, float], weight_t: float, height_m: float
) -> dict[str, NDArray]:
    """The graph, its snappable part and its contraction order: everything worth caching."""
    try:
        graph = build_graph(path, speeds, weight_t, height_m)
    except RuntimeError as error:  # osmium's word for an unreadable file
        raise ValueError(f"osm_file: cannot read {path}: {error}") from error
    n = len(graph["coords"])
    adjacency = csr_matrix((graph["seconds"], (graph["tail"], graph["head"])), shape=(n, n))
    # Snap only onto the largest strongly connected part: a stub cut off at the extract's
    # edge, or a one-way dead end, would leave its point unreachable from the rest.
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    graph["connected"] = np.flatnonzero(labels == np.bincount(labels).argmax())
    graph["order"] = contraction_order(graph)
    return graph

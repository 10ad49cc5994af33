"""Travel distances and times on the road network of an OpenStreetMap extract, in-process.

The extract is read once with pyosmium into a directed graph of the roads a truck may drive
(one-way streets, access tags, maxweight and maxheight where tagged); each edge takes
length / speed of its road class. The graph is cached on disk keyed by the extract's SHA-256
and the settings that shape it. Matrices are the fastest paths (scipy's Dijkstra from every
point), with the distance of that same path, so durations and distances agree.

Each point is snapped to the nearest drivable graph node; the straight line from the point to
that node is added at `access_speed_kmh` (a slow walk-or-crawl to the kerb), both ways.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from optimizer.matrix import EARTH_RADIUS_M, TravelMatrix
from optimizer.settings import DEFAULT_ROAD_SPEEDS_KMH

CACHE_VERSION = 1
UNREACHABLE = 10**9
_NO_ACCESS = {"no", "private", "agricultural", "forestry", "emergency"}


def _link_class(highway: str) -> str:
    return highway.removesuffix("_link")


def _limit(value: str | None) -> float | None:
    """A maxweight (t) or maxheight (m) tag as a number; None when absent or unreadable."""
    if not value:
        return None
    match = re.match(r"\s*([0-9]+(?:[.,][0-9]+)?)", value)
    return float(match.group(1).replace(",", ".")) if match else None


def _oneway(tags: dict[str, str], highway: str) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    value = tags.get("oneway", "")
    if value in ("yes", "true", "1"):
        return 1
    if value == "-1":
        return -1
    if value == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or highway == "motorway":
        return 1
    return 0


def _truck_may_use(tags: dict[str, str], weight_t: float, height_m: float) -> bool:
    for key in ("access", "vehicle", "motor_vehicle", "hgv", "goods"):
        if tags.get(key) in _NO_ACCESS:
            return False
    max_weight = _limit(tags.get("maxweight"))
    max_height = _limit(tags.get("maxheight"))
    if max_weight is not None and weight_t > max_weight:
        return False
    return max_height is None or height_m <= max_height


def _read_ways(
    osm_file: Path, speeds: dict[str, float], weight_t: float, height_m: float
) -> tuple[list[tuple[list[int], list[tuple[float, float]], float, int]], int]:
    import osmium  # imported here: only the road provider needs it

    ways = []
    for way in (
        osmium.FileProcessor(str(osm_file))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    ):
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = {tag.k: tag.v for tag in way.tags}
        highway = tags.get("highway", "")
        speed = speeds.get(_link_class(highway))
        if speed is None or not _truck_may_use(tags, weight_t, height_m):
            continue
        nodes = [n for n in way.nodes if n.location.valid()]
        if len(nodes) < 2:
            continue
        ways.append(
            (
                [n.ref for n in nodes],
                [(n.location.lat, n.location.lon) for n in nodes],
                speed,
                _oneway(tags, highway),
            )
        )
    return ways, len(ways)


def _haversine(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    la, lb = np.radians(a), np.radians(b)
    dlat, dlon = lb[:, 0] - la[:, 0], lb[:, 1] - la[:, 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(la[:, 0]) * np.cos(lb[:, 0]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def build_graph(
    osm_file: Path, speeds: dict[str, float], weight_t: float, height_m: float
) -> dict[str, NDArray]:
    """Node coordinates and directed edges (tail, head, metres, seconds) of the truck graph."""
    ways, _ = _read_ways(osm_file, speeds, weight_t, height_m)
    if not ways:
        raise ValueError(f"osm_file: no drivable road in {osm_file}")
    index: dict[int, int] = {}
    coords: list[tuple[float, float]] = []
    tails: list[int] = []
    heads: list[int] = []
    edge_speed: list[float] = []
    for refs, locs, speed, oneway in ways:
        ids = []
        for ref, loc in zip(refs, locs, strict=True):
            if ref not in index:
                index[ref] = len(coords)
                coords.append(loc)
            ids.append(index[ref])
        for u, v in zip(ids, ids[1:], strict=False):
            if oneway >= 0:
                tails.append(u)
                heads.append(v)
                edge_speed.append(speed)
            if oneway <= 0:
                tails.append(v)
                heads.append(u)
                edge_speed.append(speed)
    xy = np.array(coords, dtype=np.float64)
    tail, head = np.array(tails, dtype=np.int64), np.array(heads, dtype=np.int64)
    metres = np.maximum(_haversine(xy[tail], xy[head]), 0.1)
    seconds = metres / (np.array(edge_speed) / 3.6)
    # Two ways over the same node pair would be summed by the sparse matrix: keep the fastest.
    order = np.lexsort((seconds, head, tail))
    tail, head, metres, seconds = tail[order], head[order], metres[order], seconds[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, metres, seconds = tail[first], head[first], metres[first], seconds[first]
    return {"coords": xy, "tail": tail, "head": head, "metres": metres, "seconds": seconds}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        self._graph = self._load(path)
        coords = self._graph["coords"]
        n = len(coords)
        self._adj_time = csr_matrix(
            (self._graph["seconds"], (self._graph["tail"], self._graph["head"])), shape=(n, n)
        )
        self._adj_dist = csr_matrix(
            (self._graph["metres"], (self._graph["tail"], self._graph["head"])), shape=(n, n)
        )
        self._lat0 = float(np.radians(coords[:, 0].mean()))
        # Snap only onto the largest strongly connected part: a stub cut off at the extract's
        # edge, or a one-way dead end, would leave its point unreachable from the rest.
        _, labels = connected_components(self._adj_time, directed=True, connection="strong")
        self._snappable = np.flatnonzero(labels == np.bincount(labels).argmax())
        self._tree = cKDTree(self._project(coords[self._snappable]))

    def _cache_key(self, path: Path) -> str:
        shaping = {
            "v": CACHE_VERSION,
            "speeds": sorted(self.speeds.items()),
            "weight": self.vehicle_weight_t,
            "height": self.vehicle_height_m,
        }
        settings_hash = hashlib.sha256(json.dumps(shaping).encode()).hexdigest()[:16]
        return f"{_file_sha256(path)}-{settings_hash}"

    def _load(self, path: Path) -> dict[str, NDArray]:
        cache = Path(self.cache_dir) / f"{self._cache_key(path)}.npz"
        if cache.is_file():
            with np.load(cache) as stored:
                self.loaded_from_cache = True
                return {key: stored[key] for key in stored.files}
        try:
            graph = build_graph(path, self.speeds, self.vehicle_weight_t, self.vehicle_height_m)
        except RuntimeError as error:  # osmium's word for an unreadable file
            raise ValueError(f"osm_file: cannot read {path}: {error}") from error
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".tmp.npz")
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
        return len(self._graph["coords"])

    def snap(self, coords: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Nearest graph node of each (lat, lon) row and the metres to it; refuses far points."""
        points = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        _, nearest = self._tree.query(self._project(points))
        nodes = self._snappable[np.asarray(nearest, dtype=np.int64)]
        gaps = _haversine(points, self._graph["coords"][nodes])
        far = np.flatnonzero(gaps > self.snap_limit_m)
        if far.size:
            i = int(far[0])
            raise ValueError(
                f"point {i}: ({points[i, 0]:.6f}, {points[i, 1]:.6f}) is {gaps[i]:.0f} m from "
                f"the nearest drivable road, more than snap_limit_m={self.snap_limit_m:.0f}"
            )
        return nodes, gaps

    def matrix(self, coords: NDArray[np.float64]) -> TravelMatrix:
        nodes, gaps = self.snap(coords)
        unique, inverse = np.unique(nodes, return_inverse=True)
        seconds = np.empty((len(unique), len(unique)))
        metres = np.empty_like(seconds)
        for start in range(0, len(unique), 256):
            batch = unique[start : start + 256]
            times, preds = dijkstra(
                self._adj_time, indices=batch, return_predecessors=True, min_only=False
            )
            seconds[start : start + len(batch)] = times[:, unique]
            metres[start : start + len(batch)] = self._path_metres(preds)[:, unique]
        seconds, metres = seconds[np.ix_(inverse, inverse)], metres[np.ix_(inverse, inverse)]
        access_m = gaps[:, None] + gaps[None, :]
        np.fill_diagonal(access_m, 0.0)
        seconds = seconds + access_m / (self.access_speed_kmh / 3.6)
        metres = metres + access_m
        unreachable = ~np.isfinite(seconds)
        seconds[unreachable] = UNREACHABLE
        metres[unreachable] = UNREACHABLE
        np.fill_diagonal(seconds, 0.0)
        np.fill_diagonal(metres, 0.0)
        return TravelMatrix(
            distances=np.rint(metres).astype(np.int64),
            durations=np.rint(seconds).astype(np.int64),
        )

    def _path_metres(self, preds: NDArray[np.int32]) -> NDArray[np.float64]:
        """Length of each fastest path, summed along its predecessor tree by pointer doubling."""
        rows, n = preds.shape
        parent = preds.astype(np.int64)
        has = parent >= 0
        col = np.broadcast_to(np.arange(n), (rows, n))
        acc = np.zeros((rows, n))
        acc[has] = np.asarray(self._adj_dist[parent[has], col[has]]).ravel()
        parent = np.where(has, parent, col)  # roots and unreached point at themselves
        row_idx = np.arange(rows)[:, None]
        while True:
            grand = parent[row_idx, parent]
            if np.array_equal(grand, parent):
                return acc
            acc = acc + acc[row_idx, parent] * (parent != col)
            parent = grand

    def path(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """The road geometry of the fastest path from a to b, as (lat, lon) points."""
        nodes, _ = self.snap(np.array([a, b]))
        _, preds = dijkstra(self._adj_time, indices=int(nodes[0]), return_predecessors=True)
        chain = [int(nodes[1])]
        while chain[-1] != nodes[0] and preds[chain[-1]] >= 0:
            chain.append(int(preds[chain[-1]]))
        coords = self._graph["coords"]
        return [a, *[(float(coords[i, 0]), float(coords[i, 1])) for i in reversed(chain)], b]

"""The truck road graph of an OpenStreetMap extract: which ways a truck may drive, and how fast.

pyosmium reads the extract; a way is kept when its highway class has a speed in the settings
and its access, maxweight and maxheight tags let the truck through. One-way streets,
roundabouts and motorways give arcs one way only.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from optimizer.matrix import EARTH_RADIUS_M

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
) -> list[tuple[list[int], list[tuple[float, float]], float, int]]:
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
    return ways


def haversine_m(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    la, lb = np.radians(a), np.radians(b)
    dlat, dlon = lb[:, 0] - la[:, 0], lb[:, 1] - la[:, 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(la[:, 0]) * np.cos(lb[:, 0]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def build_graph(
    osm_file: Path, speeds: dict[str, float], weight_t: float, height_m: float
) -> dict[str, NDArray]:
    """Node coordinates and directed edges (tail, head, metres, seconds) of the truck graph."""
    ways = _read_ways(osm_file, speeds, weight_t, height_m)
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
    metres = np.maximum(haversine_m(xy[tail], xy[head]), 0.1)
    seconds = metres / (np.array(edge_speed) / 3.6)
    # Two ways over the same node pair would be summed by the sparse matrix: keep the fastest.
    order = np.lexsort((seconds, head, tail))
    tail, head, metres, seconds = tail[order], head[order], metres[order], seconds[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, metres, seconds = tail[first], head[first], metres[first], seconds[first]
    return {"coords": xy, "tail": tail, "head": head, "metres": metres, "seconds": seconds}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

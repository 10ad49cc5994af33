"""Which roads a truck may drive, on hand-made tags and on the real Helsinki extract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest

from optimizer.osm_graph import _oneway, _truck_may_use, build_graph
from optimizer.settings import DEFAULT_ROAD_SPEEDS_KMH

HELSINKI = Path(__file__).resolve().parents[2] / "fixtures" / "osm" / "helsinki.osm.pbf"


@pytest.mark.parametrize(
    ("tags", "allowed"),
    [
        ({}, True),
        ({"access": "private"}, False),
        ({"access": "destination"}, True),
        ({"motor_vehicle": "no"}, False),
        ({"hgv": "no"}, False),
        ({"goods": "no"}, False),
        ({"maxweight": "3.5"}, True),
        ({"maxweight": "3"}, False),
        ({"maxweight": "2,5 t"}, False),
        ({"maxheight": "3.2"}, True),
        ({"maxheight": "2.8 m"}, False),
        ({"maxheight": "default"}, True),
    ],
)
def test_truck_access_by_tags(tags: dict[str, str], allowed: bool) -> None:
    """A 3.5 t, 3.2 m truck keeps out of closed roads and under-limit bridges and tunnels."""
    assert _truck_may_use(tags, weight_t=3.5, height_m=3.2) is allowed


@pytest.mark.parametrize(
    ("tags", "highway", "direction"),
    [
        ({"oneway": "yes"}, "residential", 1),
        ({"oneway": "-1"}, "residential", -1),
        ({}, "residential", 0),
        ({"junction": "roundabout"}, "primary", 1),
        ({}, "motorway", 1),
        ({"oneway": "no"}, "motorway", 0),
    ],
)
def test_one_way_tags(tags: dict[str, str], highway: str, direction: int) -> None:
    """oneway, reversed oneway, roundabouts and motorways give one direction only."""
    assert _oneway(tags, highway) == direction


def _segments(graph: dict[str, np.ndarray]) -> set[tuple[tuple[float, float], ...]]:
    coords = graph["coords"]
    return {
        (tuple(coords[u]), tuple(coords[v]))
        for u, v in zip(graph["tail"].tolist(), graph["head"].tolist(), strict=True)
    }


def _tagged_segments(key: str, below: float) -> list[tuple[tuple[float, float], ...]]:
    """First segment of each Helsinki way a small van drives whose `key` limit is below `below`."""
    found = []
    for way in (
        osmium.FileProcessor(str(HELSINKI))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter(key))
    ):
        if isinstance(way, osmium.osm.Way) and way.tags.get("highway") in DEFAULT_ROAD_SPEEDS_KMH:
            tags = {tag.k: tag.v for tag in way.tags}
            if _truck_may_use(tags, weight_t=2.0, height_m=2.0) and float(tags[key]) < below:
                # Ways leaving the extract keep nodes without a location: skip to the inside.
                inside = [node.location for node in way.nodes if node.location.valid()]
                if len(inside) >= 2:
                    a, b = inside[0], inside[1]
                    found.append(((a.lat, a.lon), (b.lat, b.lon)))
    return found


def test_low_bridges_and_weak_roads_are_left_out_for_the_truck_only() -> None:
    """Helsinki's ways under 3.2 m or 3.5 t are driven by a small van, not by the truck."""
    speeds = dict(DEFAULT_ROAD_SPEEDS_KMH)
    truck = _segments(build_graph(HELSINKI, speeds, weight_t=3.5, height_m=3.2))
    van = _segments(build_graph(HELSINKI, speeds, weight_t=2.0, height_m=2.0))
    heavy = _segments(build_graph(HELSINKI, speeds, weight_t=13.0, height_m=3.2))
    low = _tagged_segments("maxheight", 3.2)
    assert low
    for a, b in low:
        assert ((a, b) in van or (b, a) in van) and (a, b) not in truck and (b, a) not in truck
    weak = _tagged_segments("maxweight", 13.0)
    assert weak
    for a, b in weak:
        assert (a, b) not in heavy and (b, a) not in heavy
    assert len(heavy) < len(truck) < len(van)

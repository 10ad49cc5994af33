"""The process's one travel-time provider, and the road geometry maps draw legs along.

Reading and preparing a city's extract takes seconds and a graph's worth of memory, so the
road provider is made once per process and per extract (its path, size and modification
time) and settings that shape it; planning, the plan map and the driver's map share it. An
area with its own extract (`osm_extract`) gets its own provider through its own settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maps.plan_map import Point, RoadPath
from optimizer.matrix import MatrixProvider, osm_options, provider_from_settings
from optimizer.settings import DispatchSettings

if TYPE_CHECKING:
    from optimizer.osm import OsmProvider

# Legs a process remembers: a day's maps redraw the same legs on every page load.
LEGS_KEPT = 4096
EXTRACTS_KEPT = 4
_building = threading.Lock()


@dataclass(frozen=True, eq=False)
class _Roads:
    provider: OsmProvider
    leg: Callable[[Point, Point], tuple[Point, ...]]  # its path, remembered per (a, b)


def matrix_provider(settings: DispatchSettings) -> MatrixProvider:
    """The provider the settings name; the road provider is shared, the others are cheap."""
    roads = road_provider(settings)
    if roads is not None:
        return roads
    return provider_from_settings(
        settings.matrix_provider,
        detour_factor=settings.road_detour_factor,
        speed_kmh=settings.average_speed_kmh,
        osrm_url=settings.osrm_url,
    )


def road_provider(settings: DispatchSettings) -> OsmProvider | None:
    """The shared OsmProvider of these settings; None unless matrix_provider is 'osm'."""
    roads = _roads(settings)
    return None if roads is None else roads.provider


def road_paths(settings: DispatchSettings) -> RoadPath | None:
    """Each leg's road geometry for maps; None (straight legs) unless the road provider is on.

    A leg the provider cannot route, such as a point of an old plan outside today's extract,
    is drawn straight rather than failing the whole map.
    """
    roads = _roads(settings)
    if roads is None:
        return None
    leg = roads.leg
    return lambda a, b: list(leg(a, b))


def _roads(settings: DispatchSettings) -> _Roads | None:
    if settings.matrix_provider != "osm":
        return None
    options = osm_options(settings)
    extract = Path(options.pop("osm_file")).resolve()
    stat = extract.stat()  # a replaced extract has another size or time: read it afresh
    speeds = tuple(sorted(options.pop("speeds").items()))
    with _building:  # two first requests at once must not both read the extract
        return _shared(
            str(extract), stat.st_size, stat.st_mtime_ns, speeds, tuple(sorted(options.items()))
        )


# A chain's areas may each plan on their own city's extract, so a few graphs are kept; past
# that the least used goes (a big city's graph is hundreds of MB), as does a replaced extract's.
@lru_cache(maxsize=EXTRACTS_KEPT)
def _shared(
    extract: str,
    size: int,
    mtime_ns: int,
    speeds: tuple[tuple[str, float], ...],
    options: tuple[tuple[str, Any], ...],
) -> _Roads:
    from optimizer.osm import OsmProvider  # its graph libraries load only when roads are on

    del size, mtime_ns  # they only key the cache
    provider = OsmProvider(osm_file=extract, speeds=dict(speeds), **dict(options))

    @lru_cache(maxsize=LEGS_KEPT)
    def leg(a: Point, b: Point) -> tuple[Point, ...]:
        try:
            return tuple(provider.path(a, b))
        except ValueError:  # a point farther from every road than the snap limit
            return (a, b)

    return _Roads(provider, leg)

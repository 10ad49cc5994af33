"""The process's one travel-time provider, and the road geometry maps draw legs along.

Reading and preparing a city's extract takes seconds and a graph's worth of memory, so the
road provider is made once per process and per extract (its path, size and modification
time) and settings that shape it; planning, the plan map and the driver's map share it. An
area with its own extract (`osm_extract`) gets its own provider through its own settings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from api.core.errors import RuleBroken
from maps.plan_map import Point, RoadPath
from optimizer.matrix import MatrixProvider, PointRefused, osm_options, provider_from_settings
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


class WarmUp:
    """Prepares the extracts a service will plan on, in the background, as it starts.

    A big city's extract takes a while to read the first time; done at start, the first 15:00
    job and the first map do not wait for it, and `/health` says how it went.
    """

    def __init__(self, settings: list[DispatchSettings]) -> None:
        on_roads = {s.osm_file: s for s in settings if s.matrix_provider == "osm"}
        self._lock = threading.Lock()
        self._state = {Path(f).name: {"state": "waiting"} for f in on_roads}
        self._thread = threading.Thread(
            target=self._run, args=(list(on_roads.values()),), name="roads-warm-up", daemon=True
        )
        if on_roads:
            self._thread.start()

    def _run(self, settings: list[DispatchSettings]) -> None:
        for each in settings:
            name = Path(each.osm_file).name
            self._set(name, {"state": "preparing"})
            started = time.perf_counter()
            try:
                provider = road_provider(each)
            except (OSError, ValueError) as error:
                # /health answers without a key: the server's folders stay out of it.
                said = str(error).replace(str(Path(each.osm_file).parent) + "/", "")
                self._set(name, {"state": "failed", "error": said[:300]})
                continue
            assert provider is not None
            seconds = round(time.perf_counter() - started, 2)
            self._set(
                name, {"state": "ready", "road_nodes": provider.node_count, "took_s": seconds}
            )

    def _set(self, name: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._state[name] = state

    def health(self) -> dict[str, dict[str, Any]]:
        """Each extract by file name: waiting, preparing, ready (with its size) or failed."""
        with self._lock:
            return {name: dict(state) for name, state in self._state.items()}


def check_on_the_roads(settings: DispatchSettings, *, lat: float, lon: float) -> None:
    """Refuse a place the area's road provider could not reach: 422 naming `lat`. `settings`
    are the area's own (local_settings), so an area on its own extract is held to its roads.

    Said when the place is given, not at 15:00: an order in the sea would otherwise be left
    out of its day's plan with nobody there to correct it.
    """
    provider = road_provider(settings)
    if provider is None:
        return
    try:
        provider.snap(np.array([[lat, lon]]))
    except PointRefused as error:
        raise RuleBroken(f"lat, lon: {error.detail}", rule="off_road", field="lat") from None

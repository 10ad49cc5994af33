"""Travel distances and times between points, behind a small provider interface.

The default is great-circle distance times a road detour factor at an average urban speed:
good enough to plan a city day with no network. A road-network engine (an OSRM table
service) replaces it by configuration when one is reachable.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    distances: NDArray[np.int64]  # metres
    durations: NDArray[np.int64]  # seconds


class PointRefused(ValueError):
    """A provider cannot place a point on its network (the road provider: too far from any
    road). `index` is the point's row; `Model.data` adds the depot, visit or bank it is."""

    def __init__(
        self,
        index: int,
        detail: str,
        *,
        family: str | None = None,
        place_id: str | None = None,
        label: str | None = None,
    ) -> None:
        self.index, self.detail, self.family, self.place_id = index, detail, family, place_id
        name = label or (f"{family} {place_id!r}" if family else f"point {index}")
        super().__init__(f"{name}: {detail}")


class MatrixProvider(Protocol):
    def matrix(self, coords: NDArray[np.float64]) -> TravelMatrix:
        """Distances and times for all ordered pairs of (lat, lon) rows."""
        ...


def great_circle_metres(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    """Haversine distance for every pair of (lat, lon) rows, as one vectorised computation."""
    radians = np.radians(np.asarray(coords, dtype=np.float64))
    lat = radians[:, 0][:, None]
    lon = radians[:, 1][:, None]
    dlat = lat - lat.T
    dlon = lon - lon.T
    half_chord = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(half_chord, 0.0, 1.0)))


@dataclass(frozen=True, slots=True)
class GreatCircleProvider:
    detour_factor: float = 1.3
    speed_kmh: float = 25.0

    def __post_init__(self) -> None:
        if not self.detour_factor >= 1.0:  # also rejects NaN
            raise ValueError("detour_factor: must be at least 1.0")
        if not self.speed_kmh > 0:  # also rejects NaN
            raise ValueError("speed_kmh: must be positive")

    def matrix(self, coords: NDArray[np.float64]) -> TravelMatrix:
        road = great_circle_metres(coords) * self.detour_factor
        seconds = road / (self.speed_kmh / 3.6)
        return TravelMatrix(
            distances=np.rint(road).astype(np.int64),
            durations=np.rint(seconds).astype(np.int64),
        )


@dataclass(frozen=True, slots=True)
class OsrmTableProvider:
    """An OSRM `table` service; one request for the whole day's points."""

    base_url: str
    profile: str = "driving"
    timeout_s: float = 60.0

    def matrix(self, coords: NDArray[np.float64]) -> TravelMatrix:
        points = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in coords)
        url = (
            f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{points}"
            "?annotations=distance,duration"
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            # OSRM answers every non-Ok code with HTTP 400 and the code in a JSON body.
            with error:
                try:
                    body = json.load(error)
                except ValueError:
                    body = {"code": f"HTTP {error.code}"}
        if body.get("code") != "Ok":
            raise RuntimeError(f"OSRM table service answered {body.get('code')!r}")
        # OSRM gives null for unroutable pairs; treat them as practically unreachable.
        unreachable = 10**9
        distances = np.array(
            [[unreachable if d is None else d for d in row] for row in body["distances"]]
        )
        durations = np.array(
            [[unreachable if d is None else d for d in row] for row in body["durations"]]
        )
        return TravelMatrix(
            distances=np.rint(distances).astype(np.int64),
            durations=np.rint(durations).astype(np.int64),
        )


def provider_from_settings(
    name: str,
    *,
    detour_factor: float,
    speed_kmh: float,
    osrm_url: str = "",
    osm: dict[str, Any] | None = None,
) -> MatrixProvider:
    """The provider a settings object names; `osm` holds OsmProvider's arguments."""
    if name == "great_circle":
        return GreatCircleProvider(detour_factor=detour_factor, speed_kmh=speed_kmh)
    if name == "osrm":
        if not osrm_url:
            raise ValueError("osrm_url: required when matrix_provider is 'osrm'")
        return OsrmTableProvider(base_url=osrm_url)
    if name == "osm":
        from optimizer.osm import OsmProvider  # reads the extract: only when asked for

        options = dict(osm or {})
        if not options.get("osm_file"):
            raise ValueError("osm_file: required when matrix_provider is 'osm'")
        return OsmProvider(**options)
    raise ValueError(
        f"matrix_provider: unknown provider {name!r}; use 'great_circle', 'osrm' or 'osm'"
    )


def osm_options(settings: Any) -> dict[str, Any]:
    """OsmProvider's arguments from a DispatchSettings."""
    return {
        "osm_file": settings.osm_file,
        "speeds": dict(settings.road_speeds_kmh),
        "snap_limit_m": settings.osm_snap_limit_m,
        "cache_dir": settings.osm_cache_dir,
        "vehicle_weight_t": settings.truck_weight_t,
        "vehicle_height_m": settings.truck_height_m,
    }

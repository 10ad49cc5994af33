"""Travel matrices: great-circle geometry, detour and speed scaling, and the OSRM table client."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from optimizer.matrix import (
    EARTH_RADIUS_M,
    GreatCircleProvider,
    OsrmTableProvider,
    great_circle_metres,
    provider_from_settings,
)

BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)


def _city_points(count: int, seed: int = 7) -> np.ndarray:
    """Random (lat, lon) rows within roughly 50 km of central Shanghai."""
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(30.9, 31.5, count), rng.uniform(121.1, 121.8, count)]
    ).astype(np.float64)


def test_beijing_to_shanghai_is_about_1067_km() -> None:
    """The haversine distance Beijing-Shanghai is 1,067 km within 0.5%."""
    metres = great_circle_metres(np.array([BEIJING, SHANGHAI]))
    assert metres[0, 1] == pytest.approx(1_067_000, rel=0.005)
    assert metres[1, 0] == metres[0, 1]


def test_matrix_has_zero_diagonal_and_is_symmetric() -> None:
    """Distances and durations are zero to self and equal in both directions."""
    matrix = GreatCircleProvider().matrix(_city_points(40))
    for values in (matrix.distances, matrix.durations):
        assert (np.diag(values) == 0).all()
        assert np.array_equal(values, values.T)
        assert (values[~np.eye(40, dtype=bool)] > 0).all()


def test_detour_factor_and_speed_scale_exactly() -> None:
    """10 km straight at factor 1.3 and 26 km/h is 13,000 m and 1,800 s."""
    north = math.degrees(10_000 / EARTH_RADIUS_M)  # 10 km due north along a meridian
    coords = np.array([[31.0, 121.0], [31.0 + north, 121.0]])
    assert great_circle_metres(coords)[0, 1] == pytest.approx(10_000, abs=1e-6)
    matrix = GreatCircleProvider(detour_factor=1.3, speed_kmh=26.0).matrix(coords)
    assert matrix.distances.tolist() == [[0, 13_000], [13_000, 0]]
    assert matrix.durations.tolist() == [[0, 1_800], [1_800, 0]]


def test_defaults_are_factor_1_3_at_25_kmh() -> None:
    """The default provider turns 10 km straight into 13,000 m and 1,872 s."""
    north = math.degrees(10_000 / EARTH_RADIUS_M)
    matrix = GreatCircleProvider().matrix(np.array([[31.0, 121.0], [31.0 + north, 121.0]]))
    assert (matrix.distances[0, 1], matrix.durations[0, 1]) == (13_000, 1_872)


def test_result_dtype_is_int64() -> None:
    """Both matrices are int64, as the integer solver dimensions require."""
    matrix = GreatCircleProvider().matrix(_city_points(5))
    assert matrix.distances.dtype == np.int64
    assert matrix.durations.dtype == np.int64


def test_vectorised_for_2000_points() -> None:
    """2,000 points give a 2,000 x 2,000 matrix in one call (shape only, no timing)."""
    matrix = GreatCircleProvider().matrix(_city_points(2_000))
    assert matrix.distances.shape == (2_000, 2_000)
    assert matrix.durations.shape == (2_000, 2_000)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"detour_factor": 0.9}, "detour_factor"),  # roads are never shorter than a straight line
        ({"detour_factor": float("nan")}, "detour_factor"),  # NaN compares false to everything
        ({"speed_kmh": 0.0}, "speed_kmh"),  # zero speed would divide by zero
        ({"speed_kmh": -25.0}, "speed_kmh"),  # negative speed
        ({"speed_kmh": float("nan")}, "speed_kmh"),  # NaN would cast to garbage int64 times
    ],
)
def test_invalid_great_circle_settings_name_the_field(kwargs: dict[str, float], field: str) -> None:
    """GreatCircleProvider rejects bad detour factor or speed with the field name."""
    with pytest.raises(ValueError, match=f"^{field}:"):
        GreatCircleProvider(**kwargs)


@pytest.mark.parametrize(
    ("name", "osrm_url", "field"),
    [
        ("osrm", "", "osrm_url"),  # OSRM chosen but no address given
        ("google", "", "matrix_provider"),  # a provider name that does not exist
        ("great_circle", "", "detour_factor"),  # valid name, invalid factor passed through
    ],
)
def test_invalid_provider_settings_name_the_field(name: str, osrm_url: str, field: str) -> None:
    """provider_from_settings raises ValueError naming the offending setting."""
    detour = 0.5 if field == "detour_factor" else 1.3
    with pytest.raises(ValueError, match=f"^{field}:"):
        provider_from_settings(name, detour_factor=detour, speed_kmh=25.0, osrm_url=osrm_url)


def test_provider_from_settings_builds_the_named_provider() -> None:
    """The two known names give the matching provider with the given parameters."""
    great = provider_from_settings("great_circle", detour_factor=1.4, speed_kmh=30.0)
    assert great == GreatCircleProvider(detour_factor=1.4, speed_kmh=30.0)
    osrm = provider_from_settings(
        "osrm", detour_factor=1.3, speed_kmh=25.0, osrm_url="http://osrm:5000"
    )
    assert osrm == OsrmTableProvider(base_url="http://osrm:5000")


class _Osrm(ThreadingHTTPServer):
    """A stand-in OSRM server: answers every GET with `status` and `body`, records paths."""

    status: int = 200
    body: dict[str, Any] | str = {}  # a str is sent as-is (not JSON)
    paths: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Osrm

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        self.server.paths.append(self.path)
        body = self.server.body
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def osrm(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Osrm]:
    """A real HTTP server on 127.0.0.1 (free port) in a background thread, shut down after."""
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = _Osrm(("127.0.0.1", 0), _Handler)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _url(server: _Osrm) -> str:
    return f"http://127.0.0.1:{server.server_port}/"


COORDS = np.array([[31.2, 121.4], [31.3, 121.5], [31.25, 121.45]])


def test_osrm_table_is_parsed(osrm: _Osrm) -> None:
    """An 'Ok' table answer becomes rounded int64 matrices, direction preserved."""
    osrm.body = {
        "code": "Ok",
        "distances": [[0, 1234.4, 2000], [1250.6, 0, 900.5], [2100, 880, 0]],
        "durations": [[0, 120.2, 200], [130.7, 0, 95], [210, 88, 0]],
    }
    matrix = OsrmTableProvider(base_url=_url(osrm), timeout_s=5).matrix(COORDS)
    assert matrix.distances.dtype == np.int64
    assert matrix.durations.dtype == np.int64
    assert matrix.distances.tolist() == [[0, 1234, 2000], [1251, 0, 900], [2100, 880, 0]]
    assert matrix.durations.tolist() == [[0, 120, 200], [131, 0, 95], [210, 88, 0]]
    # one request, points as lon,lat, both annotations asked for
    assert osrm.paths == [
        "/table/v1/driving/121.400000,31.200000;121.500000,31.300000;121.450000,31.250000"
        "?annotations=distance,duration"
    ]


def test_osrm_null_entries_become_unreachable(osrm: _Osrm) -> None:
    """Null (unroutable) cells become a very large value; the others stay as given."""
    osrm.body = {
        "code": "Ok",
        "distances": [[0, None], [500, 0]],
        "durations": [[0, 60], [None, 0]],
    }
    matrix = OsrmTableProvider(base_url=_url(osrm), timeout_s=5).matrix(COORDS[:2])
    assert matrix.distances[0, 1] >= 10**9
    assert matrix.durations[1, 0] >= 10**9
    assert (matrix.distances[1, 0], matrix.durations[0, 1]) == (500, 60)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (200, "NoTable"),  # a non-Ok code in an otherwise successful HTTP answer
        (400, "InvalidQuery"),  # real OSRM sends every non-Ok code with HTTP 400
    ],
)
def test_osrm_non_ok_code_raises_runtime_error(osrm: _Osrm, status: int, code: str) -> None:
    """A table answer whose code is not 'Ok' raises RuntimeError naming the code."""
    osrm.status = status
    osrm.body = {"code": code, "message": "no route"}
    with pytest.raises(RuntimeError, match=code):
        OsrmTableProvider(base_url=_url(osrm), timeout_s=5).matrix(COORDS[:2])


def test_osrm_http_error_without_json_raises_runtime_error(osrm: _Osrm) -> None:
    """An HTTP error whose body is not JSON (a proxy page) raises RuntimeError with the status."""
    osrm.status = 502
    osrm.body = "<html>Bad Gateway</html>"
    with pytest.raises(RuntimeError, match="HTTP 502"):
        OsrmTableProvider(base_url=_url(osrm), timeout_s=5).matrix(COORDS[:2])

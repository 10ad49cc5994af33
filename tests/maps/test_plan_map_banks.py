"""Deposit stops on the route map: a bank marker of its own, and the line through the bank."""

from __future__ import annotations

import folium
import numpy as np
from map_tree import walk

from maps.plan_map import BANK_COLOUR, plan_map, route_map
from optimizer.data import ProblemData
from optimizer.matrix import TravelMatrix
from optimizer.model import Model
from optimizer.result import Deposit, Kpis, Result, Route, Status, Stop

H = 3600
DEPOT = (30.66, 104.06)
A, B = (30.67, 104.07), (30.69, 104.09)
BANK = (30.68, 104.08)


def _data() -> ProblemData:
    model = Model()
    model.add_depot("WH", lat=DEPOT[0], lon=DEPOT[1], name="成华仓")
    model.add_vehicle("C01", depot=0, shift=(8 * H, 18 * H), weight_kg=1000, volume_m3=10)
    for visit_id, (lat, lon) in (("a", A), ("b", B)):
        model.add_visit(visit_id, lat=lat, lon=lon, window=(8 * H, 18 * H), service_s=600)
    model.add_bank("ICBC-CH", lat=BANK[0], lon=BANK[1], hours=(9 * H, 17 * H), name="工商银行")
    square = np.full((4, 4), 600, dtype=np.int64)
    np.fill_diagonal(square, 0)
    return model.data(matrix=TravelMatrix(distances=square * 10, durations=square))


def _result() -> Result:
    stops = (
        Stop("a", 9 * H, 9 * H, 9 * H + 600, 0, 0, 4_000_000, 6000),
        Stop("b", 11 * H, 11 * H, 11 * H + 600, 0, 0, 0, 6000),
    )
    banked = Deposit("ICBC-CH", 1, 10 * H, 10 * H, 10 * H + 900, 4_000_000, 6000)
    route = Route("C01", 8 * H, 12 * H, stops, 24_000, (banked,))
    kpis = Kpis(2, 2, 0, 1, 24_000, 4 * H, 0.4)
    return Result(Status.FEASIBLE, (route,), (), kpis, objective=0, seconds=0.1, seed=1)


def _markers(fmap: folium.Map) -> list[folium.Marker]:
    return [child for child in walk(fmap) if isinstance(child, folium.Marker)]


def _bank_markers(fmap: folium.Map) -> list[folium.Marker]:
    found = []
    for marker in _markers(fmap):
        (icon,) = [c for c in walk(marker) if isinstance(c, folium.DivIcon)]
        if BANK_COLOUR in str(icon.options["html"]):
            found.append(marker)
    return found


def test_the_line_runs_through_the_bank_between_the_visits_around_it() -> None:
    """Depot, the first visit, the bank (after one stop), the second visit, depot."""
    fmap = plan_map(_data(), _result())
    (line,) = [child for child in walk(fmap) if isinstance(child, folium.PolyLine)]
    assert [tuple(point) for point in line.locations] == [DEPOT, A, BANK, B, DEPOT]


def test_the_bank_has_a_gold_marker_with_its_deposit() -> None:
    """One 存 marker at the bank, its tooltip naming the crew, the time and the amount."""
    for fmap in (plan_map(_data(), _result()), route_map(_data(), _result(), "C01")):
        (marker,) = _bank_markers(fmap)
        assert tuple(marker.location) == BANK
        (tooltip,) = [c for c in walk(marker) if isinstance(c, folium.Tooltip)]
        assert tooltip.text == "C01 存款 工商银行 10:00–10:15 ¥40,000.00"
        assert len(_markers(fmap)) == 4  # depot, two stops, the bank


def test_a_route_without_deposits_has_no_bank_marker() -> None:
    """A bank no crew stops at is not drawn: the map shows deposit stops, not every branch."""
    route = _result().routes[0]
    plain = Route(route.vehicle_id, route.departure, route.return_time, route.stops, 20_000)
    result = Result(Status.FEASIBLE, (plain,), (), _result().kpis, 0, 0.1, 1)
    assert _bank_markers(plan_map(_data(), result)) == []

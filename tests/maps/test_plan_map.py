"""The plan map: routes, numbered stops, slot shapes, unassigned visits and escaping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import folium
import numpy as np
import pytest
from map_tree import of

from maps.plan_map import BADGE_PX, PALETTE, Background, VisitInfo, crew_colour, plan_map, route_map
from optimizer.data import ProblemData
from optimizer.matrix import TravelMatrix
from optimizer.model import Model
from optimizer.result import Kpis, ReasonCode, Result, Route, Status, Stop, Unassigned

H = 3600
MORNING = (9 * H, 12 * H)
AFTERNOON = (14 * H, 18 * H)
DEPOT = (31.20, 121.40)
# visit id -> (lat, lon, window)
VISITS = {
    "a1": (31.21, 121.41, MORNING),
    "a2": (31.22, 121.42, AFTERNOON),
    "b1": (31.19, 121.45, MORNING),
    "b2": (31.18, 121.46, AFTERNOON),
    "x1": (31.25, 121.50, AFTERNOON),
}
REASON = "Needs 3 crew members; the largest crew has 2."


def _data() -> ProblemData:
    model = Model()
    model.add_depot("D", lat=DEPOT[0], lon=DEPOT[1], name="浦东仓")
    for vehicle in ("V1", "V2"):
        model.add_vehicle(vehicle, depot=0, shift=(8 * H, 19 * H), weight_kg=1000, volume_m3=10)
    for visit_id, (lat, lon, window) in VISITS.items():
        model.add_visit(
            visit_id, lat=lat, lon=lon, window=window, service_s=600, weight_kg=50, cash_cny=123.45
        )
    nodes = 1 + len(VISITS)
    square = np.full((nodes, nodes), 600, dtype=np.int64)
    np.fill_diagonal(square, 0)
    return model.data(matrix=TravelMatrix(distances=square * 10, durations=square))


def _stop(visit_id: str, arrival: int) -> Stop:
    return Stop(visit_id, arrival, arrival, arrival + 600, 100_000, 0, 0, 6000)


def _result() -> Result:
    routes = (
        Route("V1", 8 * H, 16 * H, (_stop("a1", 9 * H), _stop("a2", 14 * H + 1800)), 30_000),
        Route("V2", 8 * H, 16 * H, (_stop("b1", 10 * H), _stop("b2", 15 * H)), 30_000),
    )
    unassigned = (Unassigned("x1", ReasonCode.CREW_TOO_SMALL, REASON),)
    kpis = Kpis(5, 4, 1, 2, 60_000, 8 * H, 0.5)
    return Result(Status.FEASIBLE, routes, unassigned, kpis, objective=0, seconds=0.1, seed=1)


def _groups(fmap: folium.Map) -> dict[str, folium.FeatureGroup]:
    return {group.layer_name: group for group in of(fmap, folium.FeatureGroup)}


def _icon_html(marker: folium.Marker) -> str:
    (icon,) = of(marker, folium.DivIcon)
    return str(icon.options["html"])


def _popup_html(marker: folium.Marker) -> str:
    (popup,) = of(marker, folium.Popup)
    return "".join(child.data for child in popup.html._children.values())


def test_one_polyline_per_route_in_depot_stops_depot_order() -> None:
    """Each route with stops is one PolyLine from the depot through its stops back to the depot."""
    data, result = _data(), _result()
    groups = _groups(plan_map(data, result))
    for route in result.routes:
        (line,) = of(groups[route.vehicle_id], folium.PolyLine)
        stops = [VISITS[visit_id][:2] for visit_id in route.visit_ids]
        assert [tuple(point) for point in line.locations] == [DEPOT, *stops, DEPOT]
        (tooltip,) = of(line, folium.Tooltip)
        assert tooltip.text == route.vehicle_id


def test_routes_without_stops_draw_no_line() -> None:
    """An idle vehicle adds neither a line nor a layer."""
    result = _result()
    idle = Route("V2", 8 * H, 8 * H, (), 0)
    fmap = plan_map(_data(), replace(result, routes=(result.routes[0], idle)))
    assert len(of(fmap, folium.PolyLine)) == 1
    assert set(_groups(fmap)) == {"V1", "未安排 Unassigned"}


def test_stop_markers_number_stops_in_route_order() -> None:
    """Stop badges show 1..n in route order, in the colour of the crew."""
    groups = _groups(plan_map(_data(), _result()))
    for index, vehicle in enumerate(("V1", "V2")):
        markers = of(groups[vehicle], folium.Marker)
        badges = [_icon_html(marker) for marker in markers]
        assert [badge.rsplit(">", 2)[1].split("<")[0] for badge in badges] == ["1", "2"]
        assert all(crew_colour(index) in badge for badge in badges)


@pytest.mark.parametrize(
    ("slot", "morning"),
    [
        ("", True),  # no slot given: the 09-12 window of a1 decides
        ("morning", True),  # the word wins over the window
        ("afternoon", False),  # the word wins over the window
        ("下午", False),  # Chinese slot words count too
        ("14:00-16:00", False),  # a range counts by its midpoint
        ("08:00-11:00", True),  # a morning range
    ],
)
def test_morning_and_afternoon_badges_differ(slot: str, morning: bool) -> None:
    """Morning stops are round badges, afternoon stops square ones."""
    info = {"a1": VisitInfo(slot=slot)}
    (first, _) = of(_groups(plan_map(_data(), _result(), info=info))["V1"], folium.Marker)
    assert ("border-radius:50%" in _icon_html(first)) is morning


def test_window_decides_shape_without_slots() -> None:
    """Without any info, the morning stop and the afternoon stop get different shapes."""
    morning, afternoon = of(_groups(plan_map(_data(), _result()))["V1"], folium.Marker)
    assert "border-radius:50%" in _icon_html(morning)
    assert "border-radius:3px" in _icon_html(afternoon)


def test_unassigned_visit_has_grey_cross_and_reason() -> None:
    """The unassigned visit sits in its own layer with an × badge and the reason in its popup."""
    group = _groups(plan_map(_data(), _result()))["未安排 Unassigned"]
    (marker,) = of(group, folium.Marker)
    assert tuple(marker.location) == VISITS["x1"][:2]
    assert "×" in _icon_html(marker)
    assert REASON in _popup_html(marker)


def test_popup_shows_schedule_and_caller_details() -> None:
    """A stop's popup carries customer, address, slot, arrival, items, cash and load."""
    info = {"a2": VisitInfo("王女士", "浦东新区 1 号", "138", "afternoon", ("40 × 800x800 砖",))}
    (_, marker) = of(_groups(plan_map(_data(), _result(), info=info))["V1"], folium.Marker)
    popup = _popup_html(marker)
    for text in ("王女士", "浦东新区 1 号", "afternoon", "14:30", "40 × 800x800 砖", "¥123.45"):
        assert text in popup
    assert "100.0 kg" in popup


def test_popups_and_tooltips_escape_html() -> None:
    """Caller text is escaped, so a script in a customer name stays text."""
    info = {"a1": VisitInfo(customer="<script>alert(`${1}`)</script>", address="A & B")}
    fmap = plan_map(_data(), _result(), info=info)
    (first, _) = of(_groups(fmap)["V1"], folium.Marker)
    popup = _popup_html(first)
    assert "<script>" not in popup
    assert "&lt;script&gt;" in popup
    assert "A &amp; B" in popup
    assert "`" not in popup and "${" not in popup
    assert "<script>alert" not in fmap.get_root().render()


def test_depot_marker_has_its_name() -> None:
    """The depot is drawn once, outside the route layers, with its name in the popup."""
    fmap = plan_map(_data(), _result())
    depots = [m for m in fmap._children.values() if isinstance(m, folium.Marker)]
    (depot,) = depots
    assert "仓" in _icon_html(depot)
    assert "浦东仓" in _popup_html(depot)


@pytest.mark.parametrize(
    ("tiles", "layers"),
    [
        (None, 0),  # blank background for offline pages
        ("OpenStreetMap", 1),  # the default street map
    ],
)
def test_tiles(tiles: str | None, layers: int) -> None:
    """tiles=None gives no TileLayer at all; routes are still drawn."""
    fmap = plan_map(_data(), _result(), background=Background(tiles=tiles))
    assert len(of(fmap, folium.TileLayer)) == layers
    assert len(of(fmap, folium.PolyLine)) == 2


def test_layer_control_and_bounds() -> None:
    """Route layers can be toggled and the view fits every depot and visit."""
    fmap = plan_map(_data(), _result())
    assert len(of(fmap, folium.LayerControl)) == 1
    (bounds,) = of(fmap, folium.FitBounds)
    lats = [DEPOT[0], *(v[0] for v in VISITS.values())]
    lons = [DEPOT[1], *(v[1] for v in VISITS.values())]
    assert bounds.bounds == [[min(lats), min(lons)], [max(lats), max(lons)]]


def test_renders_to_html() -> None:
    """The whole page renders, naming both crews and the unassigned layer."""
    page = plan_map(_data(), _result(), background=Background(tiles=None)).get_root().render()
    assert "V1" in page and "V2" in page
    assert "Unassigned" in page


@pytest.mark.parametrize(
    "index",
    [
        0,  # first colour
        len(PALETTE),  # wraps around to the first colour
        len(PALETTE) * 3 + 5,  # wraps any number of times
    ],
)
def test_crew_colour_cycles(index: int) -> None:
    """Colours come from a fixed palette of distinct hex colours and repeat after it."""
    assert crew_colour(index) == PALETTE[index % len(PALETTE)]
    assert len(set(PALETTE)) == len(PALETTE) >= 20
    assert all(len(colour) == 7 and colour.startswith("#") for colour in PALETTE)


def test_leaflet_served_locally() -> None:
    """With local folders the page loads Leaflet and jQuery from them and nothing from a CDN."""
    background = Background(tiles=None, leaflet_url="/static/leaflet/", jquery_url="/js")
    page = plan_map(_data(), _result(), background=background).get_root().render()
    assert '<script src="/js/jquery.min.js">' in page
    assert '<script src="/static/leaflet/leaflet.js">' in page
    assert 'href="/static/leaflet/leaflet.css"' in page
    assert "cdn" not in page.lower() and "https://" not in page.lower()


def test_route_map_shows_one_crew_only() -> None:
    """A driver's map: their own numbered stops and line, their depot, nobody else's visits."""
    fmap = route_map(_data(), _result(), "V1")
    groups = _groups(fmap)
    assert set(groups) == {"V1"}
    markers = of(groups["V1"], folium.Marker)
    assert [">1<" in _icon_html(m) for m in markers] == [True, False]
    assert ">2<" in _icon_html(markers[1])
    assert len(of(fmap, folium.PolyLine)) == 1
    assert len(of(fmap, folium.LayerControl)) == 0
    depots = [m for m in of(fmap, folium.Marker) if "仓" in _icon_html(m)]
    assert len(depots) == 1


@pytest.mark.parametrize("draw", [plan_map, lambda d, r: route_map(d, r, "V1")])
def test_bounds_leave_room_for_badges_and_attribution(draw: Any) -> None:
    """The view keeps every badge off the edges, and the bottom clear of the attribution."""
    (bounds,) = of(draw(_data(), _result()), folium.FitBounds)
    top, left = bounds.options["paddingTopLeft"]
    bottom_x, bottom_y = bounds.options["paddingBottomRight"]
    assert min(top, left, bottom_x) >= BADGE_PX // 2 + 2
    assert bottom_y >= BADGE_PX // 2 + 20  # Leaflet's attribution line is about 18 px high

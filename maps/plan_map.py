"""A plan drawn as a folium map: one coloured, numbered route per crew and the visits left over.

Pure functions from (ProblemData, Result) to a folium.Map; nothing here solves or mutates. Every
piece of caller text (customer names, addresses, ids) is escaped for both HTML and the JavaScript
template literals folium embeds popups and tooltips in, because names come from store systems.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import folium

from optimizer.data import Bank, Depot, ProblemData, Visit
from optimizer.result import Deposit, Result, Route, Stop, Unassigned

NOON = 12 * 3600
DAY = 24 * 3600
UNASSIGNED_LAYER = "未安排 Unassigned"
UNASSIGNED_COLOUR = "#808080"  # kept out of the palette so a crew never looks unplanned
DEPOT_COLOUR = "#222222"
BANK_COLOUR = "#d4a017"  # gold, outside the palette: a bank never looks like a crew's stop
BADGE_PX = 26
# Room fitBounds leaves at the map's edges, in pixels (x, y): half a badge, since a badge is
# centred on its point, plus a margin; the bottom also clears the scale and the attribution,
# which otherwise cover the stops nearest the bottom edge on a phone's short map.
EDGE_TOP_LEFT_PX = (BADGE_PX, BADGE_PX)
EDGE_BOTTOM_RIGHT_PX = (BADGE_PX, BADGE_PX + 28)

# Strong, well separated colours first: most days use fewer than ten crews.
PALETTE = (
    "#e6194b", "#4363d8", "#3cb44b", "#f58231", "#911eb4",
    "#008080", "#f032e6", "#9a6324", "#000075", "#800000",
    "#808000", "#42d4f4", "#bfef45", "#ffe119", "#fabed4",
    "#dcbeff", "#aaffc3", "#ffd8b1", "#469990", "#6a3d9a",
)  # fmt: skip

# Slot words as dispatchers type them; True means morning.
_SLOT_WORDS = {"morning": True, "am": True, "上午": True}
_SLOT_WORDS |= {"afternoon": False, "pm": False, "下午": False}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")

Point = tuple[float, float]
# One leg's road geometry from a to b, as (lat, lon) points beginning at a and ending at b.
RoadPath = Callable[[Point, Point], list[Point]]


@dataclass(frozen=True)
class VisitInfo:
    """Optional display details per visit id, supplied by the caller."""

    customer: str = ""
    address: str = ""
    phone: str = ""
    slot: str = ""  # "morning" / "afternoon" / "14:00-16:00"
    items: tuple[str, ...] = ()  # e.g. ("40 × 800x800 灰色抛釉砖",)


def crew_colour(index: int) -> str:
    """The colour of the crew with this index; the palette cycles for very large fleets."""
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Background:
    """Where the map's scripts and tiles come from.

    `leaflet_url` is the folder holding leaflet.js and leaflet.css, `jquery_url` the one
    holding jquery.min.js (folium builds popups with it); None keeps folium's CDN.
    `tiles` is a folium tile name or URL template, or None for a blank background: a page
    must still show its routes when no tile server can be reached.
    """

    tiles: str | None = "OpenStreetMap"
    attribution: str | None = None
    leaflet_url: str | None = None
    jquery_url: str | None = None


def plan_map(
    data: ProblemData,
    result: Result,
    *,
    info: Mapping[str, VisitInfo] | None = None,
    background: Background = Background(),  # noqa: B008 - frozen, so one shared default is safe
    roads: RoadPath | None = None,
) -> folium.Map:
    """A map of the plan: routes as layers, depots, and unassigned visits with their reasons.

    With `roads`, each leg of a route follows the road geometry it gives; without, it is straight.
    """
    info = info or {}
    points = [(d.lat, d.lon) for d in data.depots]
    points += [(v.lat, v.lon) for v in data.visits]
    points += [(b.lat, b.lon) for b in data.banks]
    fmap = _base_map(points, background)
    for depot in data.depots:
        _depot_marker(depot).add_to(fmap)
    for route in result.routes:
        if route.stops:
            _route_group(data, route, _colour_of(data, route), info, roads).add_to(fmap)
    _unassigned_group(data, result.unassigned, info).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def route_map(
    data: ProblemData,
    result: Result,
    vehicle_id: str,
    *,
    info: Mapping[str, VisitInfo] | None = None,
    background: Background = Background(),  # noqa: B008 - frozen, so one shared default is safe
    roads: RoadPath | None = None,
) -> folium.Map:
    """One crew's route and its depots only: what a driver may see of the day (`roads` as in
    plan_map)."""
    info = info or {}
    vehicle = data.vehicles[data.vehicle_index(vehicle_id)]
    depots = [data.depots[vehicle.start_depot], data.depots[vehicle.end_depot]]
    route = next((r for r in result.routes if r.vehicle_id == vehicle_id), None)
    stops = route.stops if route else ()
    visits = [data.visits[data.visit_index(stop.visit_id)] for stop in stops]
    banks = [_bank(data, deposit) for deposit in (route.deposits if route else ())]
    points = [(d.lat, d.lon) for d in depots] + [(v.lat, v.lon) for v in visits]
    points += [(b.lat, b.lon) for b in banks]
    fmap = _base_map(points, background)
    for depot in dict.fromkeys(depots):
        _depot_marker(depot).add_to(fmap)
    if route is not None and route.stops:
        _route_group(data, route, _colour_of(data, route), info, roads).add_to(fmap)
    return fmap


def _colour_of(data: ProblemData, route: Route) -> str:
    # By vehicle index, not route order, so a truck keeps its colour across re-plans.
    return crew_colour(data.vehicle_index(route.vehicle_id))


def _base_map(points: list[tuple[float, float]], background: Background) -> folium.Map:
    # tiles=None must reach folium unchanged: it is how offline pages get a blank background.
    fmap = folium.Map(
        location=_centre(points),
        zoom_start=12,
        tiles=background.tiles,
        attr=background.attribution,
        control_scale=True,
    )
    if background.leaflet_url is not None and background.jquery_url is not None:
        # Leaflet draws everything here (div icons, lines, layer control) and folium's popups
        # need jQuery; its other CDN files (Bootstrap, Font Awesome) style nothing we use.
        base = background.leaflet_url.rstrip("/")
        fmap.default_js = [
            ("jquery", f"{background.jquery_url.rstrip('/')}/jquery.min.js"),
            ("leaflet", f"{base}/leaflet.js"),
        ]
        fmap.default_css = [("leaflet_css", f"{base}/leaflet.css")]
    if points:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        fmap.fit_bounds(
            [[min(lats), min(lons)], [max(lats), max(lons)]],
            padding_top_left=EDGE_TOP_LEFT_PX,
            padding_bottom_right=EDGE_BOTTOM_RIGHT_PX,
            max_zoom=17,
        )
    return fmap


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    if not points:
        return (0.0, 0.0)
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def _route_group(
    data: ProblemData,
    route: Route,
    colour: str,
    info: Mapping[str, VisitInfo],
    roads: RoadPath | None,
) -> folium.FeatureGroup:
    vehicle = data.vehicles[data.vehicle_index(route.vehicle_id)]
    start, end = data.depots[vehicle.start_depot], data.depots[vehicle.end_depot]
    visits = [data.visits[data.visit_index(stop.visit_id)] for stop in route.stops]
    group = folium.FeatureGroup(name=_esc(route.vehicle_id))
    # The line runs through each bank where the crew stops, between the visits around it.
    line = [(start.lat, start.lon)]
    places: list[Visit | Depot] = [*visits, end]
    for done, place in enumerate(places):
        line += [_point(_bank(data, d)) for d in route.deposits if d.after == done]
        line.append(_point(place))
    folium.PolyLine(
        _along(line, roads) if roads else line,
        color=colour,
        weight=4,
        opacity=0.8,
        tooltip=_esc(route.vehicle_id),
    ).add_to(group)
    for number, (stop, visit) in enumerate(zip(route.stops, visits, strict=True), start=1):
        details = info.get(visit.id, VisitInfo())
        _stop_marker(route.vehicle_id, number, stop, visit, details, colour).add_to(group)
    for deposit in route.deposits:
        _bank_marker(route.vehicle_id, deposit, _bank(data, deposit)).add_to(group)
    return group


def _along(stops: list[Point], roads: RoadPath) -> list[Point]:
    """The line through `stops` with every leg replaced by its road geometry."""
    line = stops[:1]
    for a, b in zip(stops, stops[1:], strict=False):
        if a != b:  # two stops at one address have no leg between them to draw
            line += roads(a, b)[1:]  # each leg begins where the previous one ended
    return line


def _bank(data: ProblemData, deposit: Deposit) -> Bank:
    return next(bank for bank in data.banks if bank.id == deposit.bank_id)


def _point(place: Bank | Visit | Depot) -> tuple[float, float]:
    return (place.lat, place.lon)


def _bank_marker(vehicle_id: str, deposit: Deposit, bank: Bank) -> folium.Marker:
    """A gold square 存 where the crew banks its cash: nothing else on the map looks like it."""
    name = bank.name or bank.id
    when = f"{_clock(deposit.start)}–{_clock(deposit.departure)}"
    rows = [
        ("车辆 Vehicle", vehicle_id),
        ("到达 Arrival", _clock(deposit.arrival)),
        ("存款 Deposit", f"{when}, {_cny(deposit.amount)}"),
    ]
    return folium.Marker(
        (bank.lat, bank.lon),
        icon=_badge("存", BANK_COLOUR, square=True, size=BADGE_PX + 2),
        popup=_popup(f"存款 {name}", bank.id, rows),
        tooltip=_esc(f"{vehicle_id} 存款 {name} {when} {_cny(deposit.amount)}"),
    )


def _stop_marker(
    vehicle_id: str, number: int, stop: Stop, visit: Visit, details: VisitInfo, colour: str
) -> folium.Marker:
    arrival = _clock(stop.arrival)
    if stop.start != stop.arrival:  # the crew waits for the window; say when work begins
        arrival += f" (开始 starts {_clock(stop.start)})"
    rows = [
        *_visit_rows(visit, details),
        ("车辆 Vehicle", vehicle_id),
        ("到达 Arrival", arrival),
        ("收款 Cash", _cny(visit.cash)),
        ("载重 On board", _kg(stop.weight_on_board)),
    ]
    title = f"{number}. {_name(visit, details)}"
    return folium.Marker(
        (visit.lat, visit.lon),
        icon=_badge(str(number), colour, square=not _is_morning(visit, details)),
        popup=_popup(title, visit.id, rows),
        tooltip=_esc(f"{vehicle_id} #{number} {_name(visit, details)}"),
    )


def _unassigned_group(
    data: ProblemData, unassigned: Iterable[Unassigned], info: Mapping[str, VisitInfo]
) -> folium.FeatureGroup:
    # Always present, even when empty, so the layer list reads the same every day.
    group = folium.FeatureGroup(name=UNASSIGNED_LAYER)
    for item in unassigned:
        visit = data.visits[data.visit_index(item.visit_id)]
        details = info.get(visit.id, VisitInfo())
        rows = [
            ("原因 Reason", item.reason),
            *_visit_rows(visit, details),
            ("收款 Cash", _cny(visit.cash)),
            ("重量 Weight", _kg(visit.weight)),
        ]
        folium.Marker(
            (visit.lat, visit.lon),
            icon=_badge("×", UNASSIGNED_COLOUR, square=not _is_morning(visit, details)),
            popup=_popup(f"未安排 {_name(visit, details)}", visit.id, rows),
            tooltip=_esc(f"× {_name(visit, details)}: {item.reason}"),
        ).add_to(group)
    return group


def _depot_marker(depot: Depot) -> folium.Marker:
    name = depot.name or depot.id
    rows = [("营业 Hours", f"{_clock(depot.opens)}–{_clock(depot.closes)}")]
    return folium.Marker(
        (depot.lat, depot.lon),
        icon=_badge("仓", DEPOT_COLOUR, square=True, size=BADGE_PX + 4),
        popup=_popup(name, depot.id, rows),
        tooltip=_esc(name),
    )


def _visit_rows(visit: Visit, details: VisitInfo) -> list[tuple[str, str]]:
    slot = details.slot or f"{_clock(visit.tw_start)}–{_clock(visit.tw_end)}"
    rows = [
        ("客户 Customer", _name(visit, details)),
        ("地址 Address", details.address),
        ("电话 Phone", details.phone),
        ("时段 Slot", slot),
    ]
    if details.items:
        rows.append(("货品 Items", "\n".join(details.items)))
    return rows


def _name(visit: Visit, details: VisitInfo) -> str:
    return details.customer or visit.label or visit.id


def _is_morning(visit: Visit, details: VisitInfo) -> bool:
    """The promised slot decides; the time window is the fallback when the caller gave none.

    A range such as "11:00-13:00" counts by its midpoint, like the window does, so the same
    promise is classified the same way whichever form it arrives in.
    """
    slot = details.slot.strip().lower()
    if slot in _SLOT_WORDS:
        return _SLOT_WORDS[slot]
    times = [int(h) * 3600 + int(m) * 60 for h, m in _CLOCK.findall(slot)]
    if times:
        return (times[0] + times[-1]) / 2 < NOON
    return (visit.tw_start + visit.tw_end) / 2 < NOON


def _badge(text: str, colour: str, *, square: bool, size: int = BADGE_PX) -> folium.DivIcon:
    radius = "3px" if square else "50%"
    style = (
        f"width:{size}px;height:{size}px;line-height:{size}px;border-radius:{radius};"
        f"background:{colour};color:{_ink(colour)};border:2px solid #fff;"
        "box-sizing:border-box;text-align:center;font:bold 12px sans-serif;"
        "box-shadow:0 0 3px rgba(0,0,0,.6)"
    )
    return folium.DivIcon(
        html=f'<div style="{style}">{_esc(text)}</div>',
        icon_size=(size, size),
        icon_anchor=(size // 2, size // 2),
    )


def _ink(colour: str) -> str:
    """Black text on the light palette colours, white on the dark ones, so numbers stay legible."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#000" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#fff"


def _popup(title: str, ref: str, rows: Iterable[tuple[str, str]]) -> folium.Popup:
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:6px;white-space:nowrap">{_esc(label)}</th>'
        f"<td>{_esc(value).replace(chr(10), '<br>')}</td></tr>"
        for label, value in rows
        if value
    )
    head = f"<b>{_esc(title)}</b> <small>{_esc(ref)}</small>"
    return folium.Popup(f"<div>{head}<table>{body}</table></div>", max_width=360)


def _esc(text: str) -> str:
    """Escape for HTML and for the JS template literal folium wraps popups and tooltips in.

    html.escape leaves backslash, backtick and "$" alone; inside `...` they would end the string
    or interpolate, so they become character references, which the browser shows as typed.
    """
    escaped = html.escape(text, quote=True)
    return escaped.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _clock(seconds: int) -> str:
    days, rest = divmod(seconds, DAY)
    stamp = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return stamp + (f" +{days}d" if days else "")


def _cny(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _kg(grams: int) -> str:
    return f"{grams / 1000:,.1f} kg"

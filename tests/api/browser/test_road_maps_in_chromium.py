"""A Monaco day planned on the real extract's roads, its maps drawn by Leaflet in Chromium."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from live_service import LiveService
from plan_helpers import DAY, MONACO, NOW, ORDERS, ZONE, seed_day
from playwright.sync_api import expect

from api.auth.models import Role
from fixtures.monaco import MONACO_PBF

ON_THE_DAY = dt.datetime.combine(DAY, dt.time(8, 0), tzinfo=ZONE)
AT = dict(zip(ORDERS, MONACO[1:], strict=True))
# A straight route of n stops is n + 1 segments; one on the roads has many per leg.
SEGMENTS_PER_LEG = 5


@pytest.fixture(autouse=True)
def on_monaco_roads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live service's settings (read from the environment) name the road provider."""
    monkeypatch.setenv("DISPATCH_MATRIX_PROVIDER", "osm")
    monkeypatch.setenv("DISPATCH_OSM_FILE", str(MONACO_PBF))
    monkeypatch.setenv("DISPATCH_OSM_CACHE_DIR", str(tmp_path / "osm-cache"))
    monkeypatch.setenv("DISPATCH_MAP_TILES", "none")  # no tile server here; the lines show


def _segments(path: Any) -> int:
    """Straight pieces of an SVG path Leaflet drew: one per point after the first."""
    return len(re.findall(r"[ML][-\d.]+ [-\d.]+", path.get_attribute("d") or "")) - 1


def _settled(target: Any) -> None:
    """Waits until the folium map (a page or a frame) has zoomed to fit its routes: a
    screenshot taken during the zoom animation shows the lines blurred and too thick."""
    target.wait_for_function(
        """() => {
            const name = Object.keys(window).find((key) => key.startsWith("map_"));
            const map = name && window[name];
            return Boolean(map && map.getZoom() > 12 && !map._animatingZoom);
        }"""
    )


@pytest.mark.timeout(120)
def test_plan_and_driver_maps_follow_monacos_roads(
    live_service: LiveService, browser: Any, screenshot: Any
) -> None:
    """Leaflet draws plan and driver routes along the roads; navigation links are unchanged."""
    live = live_service
    live.clock.fixed = NOW
    seed_day(live.admin, {}, MONACO)
    plan_id = live.plan(DAY)
    plan = live.admin.get(f"/plans/{plan_id}").json()
    routes = [route for route in plan["routes"] if route["stops"]]
    assert routes and plan["unassigned"] == []
    published = live.admin.post(f"/plans/{plan_id}/publish", headers={"If-Match": '"1"'})
    assert published.status_code == 200, published.text

    desk = browser.new_context(viewport={"width": 1200, "height": 800})
    page = live.sign_in(desk, live.key(Role.DISPATCHER))
    page.goto(f"{live.url}/plans/{plan_id}/map.html")
    lines = page.locator("path.leaflet-interactive")
    expect(lines).to_have_count(len(routes))
    _settled(page)
    drawn = sorted(_segments(lines.nth(k)) for k in range(len(routes)))
    fewest_legs = min(len(route["stops"]) + 1 for route in routes)
    assert drawn[0] > SEGMENTS_PER_LEG * fewest_legs, drawn
    screenshot(page, "plan-map-on-roads", full_page=False)
    page.goto(f"{live.url}/app/board?date={DAY}")  # the board frames the same map
    board_lines = page.frame_locator("iframe.map").locator("path.leaflet-interactive")
    expect(board_lines).to_have_count(len(routes))
    _settled(next(f for f in page.frames if f"/plans/{plan_id}/map.html" in f.url))
    assert _segments(board_lines.first) > SEGMENTS_PER_LEG * fewest_legs
    screenshot(page, "board-on-roads")
    desk.close()

    live.clock.fixed = ON_THE_DAY
    crew = routes[0]
    driver_key = live.key(Role.DRIVER, crew["vehicle_code"], name="张伟")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = live.sign_in(phone, driver_key)
    frame = page.frame_locator("iframe.map")
    expect(frame.locator("path.leaflet-interactive")).to_have_count(1)
    _settled(next(f for f in page.frames if "/app/driver/map.html" in f.url))
    legs = len(crew["stops"]) + 1
    assert _segments(frame.locator("path.leaflet-interactive")) > SEGMENTS_PER_LEG * legs
    for stop in crew["stops"]:
        lat, lon = AT[stop["external_id"]]
        card = page.locator(f".stop[data-order='{stop['external_id']}']")
        amap = card.locator("a.nav.amap").get_attribute("href") or ""
        assert amap.startswith(f"https://uri.amap.com/navigation?to={lon},{lat},")
        assert card.locator(f"a[href='geo:{lat},{lon}']").count() == 1
    screenshot(page, "driver-map-on-roads", full_page=False)
    phone.close()

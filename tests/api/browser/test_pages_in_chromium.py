"""A dispatcher and two drivers in headless Chromium, against the running service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from live_service import LiveService
from plan_helpers import DAY, NOW, ZONE, seed_day
from playwright.sync_api import expect
from sqlmodel import Session

from api.auth.models import Role
from api.plans.models import JobStatus
from api.plans.runner import INTERRUPTED, recover_interrupted
from api.plans.service import new_job

ON_THE_DAY = dt.datetime.combine(DAY, dt.time(8, 0), tzinfo=ZONE)
DEPOT = {"latitude": 30.66, "longitude": 104.06}
PHONE = {"width": 390, "height": 844}


def _refusals(context: Any) -> list[str]:
    """What the content policy refuses on the context's pages and frames; stays empty."""
    refused: list[str] = []
    context.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def _plan_and_publish(live: LiveService, browser: Any, screenshot: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    refused = _refusals(context)
    page = live.sign_in(context, live.key(Role.DISPATCHER, name="调度 王芳"))
    page.goto(f"{live.url}/app/board?date={DAY}")
    page.fill("#plan-seconds", "3")
    page.click("#plan-button")
    # the bar moves while the solver runs; then the board shows the new plan
    # a function, not an expression: the page's policy forbids evaluating strings
    page.wait_for_function("() => Number(document.querySelector('#progress').value) > 0")
    page.wait_for_selector(".timeline .crew .bar[data-kind='service']", timeout=60_000)
    screenshot(page, "board-planned")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#publish-button")
    page.wait_for_selector("#plan-status[data-status='published']", timeout=30_000)
    frame = page.frame_locator("iframe.map")
    frame.locator(".leaflet-marker-icon").first.wait_for()
    screenshot(page, "board-published")
    assert refused == []
    context.close()


def _crew_with_cash(live: LiveService) -> tuple[str, str]:
    """The crew that collects money on the published plan, and the other crew of the day."""
    plans = live.admin.get("/plans", params={"date": DAY.isoformat()}).json()
    plan = live.admin.get(f"/plans/{plans[0]['id']}").json()
    for route in plan["routes"]:
        if any(stop["cash_cny"] > 0 for stop in route["stops"]):
            vehicle = route["vehicle_code"]
            return vehicle, "C02" if vehicle == "C01" else "C01"
    raise AssertionError("the seeded day collects cash")


def _load_and_sign(live: LiveService, vehicle: str, driver_key: str) -> None:
    base = f"/handover/{DAY}/loading/{vehicle}"
    warehouse = live.client(live.key(Role.WAREHOUSE))
    lines = warehouse.get(base).json()["lines"]
    counts = [{"order": x["order"], "sku": x["sku"], "quantity": x["expected"]} for x in lines]
    at = ON_THE_DAY.isoformat()
    headers = {"Idempotency-Key": f"count-{vehicle}"}
    body = {"keeper_name": "王库管", "at": at, "counts": counts}
    assert warehouse.post(f"{base}/count", json=body, headers=headers).status_code == 201
    crew = live.client(driver_key)
    sign = {"crew_leader_name": "张伟", "at": at}
    headers = {"Idempotency-Key": f"sign-{vehicle}"}
    assert crew.post(f"{base}/sign", json=sign, headers=headers).status_code == 201


def _assert_markers_in_clear_view(frame: Any) -> None:
    """Every marker lies wholly inside the map and under none of its corner controls."""
    view = frame.locator(".leaflet-container").bounding_box()
    controls = [
        frame.locator(selector).bounding_box()
        for selector in (".leaflet-control-attribution", ".leaflet-control-scale")
    ]
    markers = frame.locator(".leaflet-marker-icon")
    for k in range(markers.count()):
        box = markers.nth(k).bounding_box()
        assert view["x"] <= box["x"] and box["x"] + box["width"] <= view["x"] + view["width"]
        assert view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]
        for control in controls:
            apart_x = (
                box["x"] + box["width"] <= control["x"]
                or control["x"] + control["width"] <= box["x"]
            )
            apart_y = (
                box["y"] + box["height"] <= control["y"]
                or control["y"] + control["height"] <= box["y"]
            )
            assert apart_x or apart_y, (k, box, control)


def _draw_signature(page: Any, canvas: Any) -> None:
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + 20 + step * 20, y + box["height"] * (0.3 + 0.4 * (step % 2)))
    page.mouse.up()


def _complete_stop(page: Any, order: str, amount: float) -> None:
    stop = page.locator(f".stop[data-order='{order}']")
    stop.locator("[data-action='arrive']").click()
    page.wait_for_selector(f".stop[data-order='{order}'][data-state='arrived']")
    stop = page.locator(f".stop[data-order='{order}']")
    stop.locator("[data-action='deliver']").click()
    page.wait_for_selector(f".stop[data-order='{order}'][data-state='delivered']")
    stop = page.locator(f".stop[data-order='{order}']")
    stop.locator("input[name='amount_cny']").fill(f"{amount:.2f}")
    stop.locator("[data-action='collect']").click()
    page.wait_for_function(
        "amount => document.querySelector('#cash-on-board').textContent.replace(/,/g, '')"
        ".includes(amount)",
        arg=f"{amount:.0f}",
    )
    stop = page.locator(f".stop[data-order='{order}']")
    stop.locator("input[name='signer_name']").fill("王五")
    _draw_signature(page, stop.locator("canvas.signature"))
    stop.locator("[data-action='signoff']").click()
    page.wait_for_selector(f".stop[data-order='{order}'][data-state='signed']")


@pytest.mark.timeout(240)
def test_plan_publish_and_a_driver_completes_a_stop(
    live_service: LiveService, browser: Any, screenshot: Any
) -> None:
    """Dispatcher plans and publishes; a driver signs a stop off; the other crew stays out."""
    live = live_service
    live.clock.fixed = NOW
    seed_day(live.admin, {})
    _plan_and_publish(live, browser, screenshot)

    live.clock.fixed = ON_THE_DAY
    vehicle, other = _crew_with_cash(live)
    driver_key = live.key(Role.DRIVER, vehicle, name="张伟")
    _load_and_sign(live, vehicle, driver_key)
    phone = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation=DEPOT,
        permissions=["geolocation"],
    )
    refused = _refusals(phone)
    page = live.sign_in(phone, driver_key)
    assert page.url.endswith("/app/driver")
    own = page.locator(".stop")
    planned = live.client(driver_key).get("/driver/route").json()["stops"]
    stop = next(s for s in planned if s["cash_to_collect_cny"] > 0)
    assert own.count() == len(planned)
    assert [own.nth(k).get_attribute("data-order") for k in range(own.count())] == [
        s["external_id"] for s in planned
    ]
    map_frame = page.frame_locator("iframe.map")
    # one numbered marker per stop, plus the depot, and one line: the route
    expect(map_frame.locator(".leaflet-marker-icon")).to_have_count(len(planned) + 1)
    expect(map_frame.locator("path.leaflet-interactive")).to_have_count(1)
    _assert_markers_in_clear_view(map_frame)
    screenshot(page, "driver-route", full_page=False)
    assert "0" in page.locator("#cash-on-board").inner_text()
    page.locator("[data-action='depart']").click()
    page.wait_for_selector("[data-action='depart'][disabled], #departed", timeout=15_000)
    _complete_stop(page, stop["external_id"], stop["cash_to_collect_cny"])
    screenshot(page, "driver-signed")
    stored = live.admin.get(f"/cash/{DAY}/on-board/{vehicle}").json()
    assert stored["cash_on_board_cny"] == pytest.approx(stop["cash_to_collect_cny"])
    assert refused == []

    stranger = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = live.sign_in(stranger, live.key(Role.DRIVER, other, name="陈静"))
    for path in (f"/app/driver?vehicle={vehicle}", f"/app/driver/map.html?vehicle={vehicle}"):
        answer = page.goto(f"{live.url}{path}")
        assert answer is not None and answer.status == 403, path
    screenshot(page, "other-driver-forbidden")
    api = page.request.get(f"{live.url}/driver/route?vehicle={vehicle}")
    assert api.status == 403


UNREACHABLE_TILES = {"map_tiles": "http://127.0.0.1:9/{z}/{x}/{y}.png", "map_attribution": "none"}


@pytest.mark.parametrize("live_service", [UNREACHABLE_TILES], indirect=True)
def test_routes_stay_visible_without_a_tile_server(
    live_service: LiveService, browser: Any, screenshot: Any
) -> None:
    """No tile server and no internet: every route line and stop marker still draws."""
    live = live_service
    live.clock.fixed = NOW
    seed_day(live.admin, {})
    plan_id = live.plan(DAY)
    plan = live.admin.get(f"/plans/{plan_id}").json()
    routes = [route for route in plan["routes"] if route["stops"]]
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    refused = _refusals(context)
    page = live.sign_in(context, live.key(Role.DISPATCHER))
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live.url, "data:", "http://127.0.0.1:9/"))
            else None
        ),
    )
    page.goto(f"{live.url}/plans/{plan_id}/map.html")
    expect(page.locator("path.leaflet-interactive")).to_have_count(len(routes))
    stops = sum(len(route["stops"]) for route in routes)
    depots = 1
    markers = stops + len(plan["unassigned"]) + depots
    expect(page.locator(".leaflet-marker-icon")).to_have_count(markers)
    lines = page.locator("path.leaflet-interactive")
    assert all(lines.nth(k).is_visible() for k in range(len(routes)))
    assert outside == []  # nothing fetched from a CDN or any other host
    assert refused == []
    screenshot(page, "map-without-tiles")


@pytest.mark.timeout(120)
def test_board_says_a_job_was_re_queued(
    live_service: LiveService, browser: Any, screenshot: Any
) -> None:
    """A job found running at start-up runs again, and the board says which run and why."""
    live = live_service
    live.clock.fixed = NOW
    seed_day(live.admin, {})
    engine = live.app.state.engine
    job = new_job(area="main", date=DAY, settings=live.app.state.settings, requested_by="test")
    # OR-Tools alone runs to its limit, so the board finds the job still running
    job.time_limit_s, job.params = 120.0, {**job.params, "engines": ["ortools"]}
    job.status, job.attempts = JobStatus.RUNNING, 1  # as a killed process left it
    with Session(engine) as session:
        session.add(job)
        session.commit()
        job_id = job.id
    recover_interrupted(engine)  # what the next start does
    live.app.state.runner.wake()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en")
    page = live.sign_in(context, live.key(Role.DISPATCHER))
    page.goto(f"{live.url}/app/board?date={DAY}&lang=en")
    expect(page.locator("#progress-text")).to_contain_text("run 2", timeout=30_000)
    expect(page.locator("#progress-text")).to_contain_text(f"re-queued because: {INTERRUPTED}")
    expect(page.locator("#progress-text")).to_contain_text("visits routed", timeout=30_000)
    screenshot(page, "board-job-re-queued")
    assert live.admin.post(f"/plans/jobs/{job_id}/cancel").status_code == 200
    context.close()

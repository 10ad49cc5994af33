"""How fast the pages render: a 100-stop route on the driver's page, and the board.

Plans a day with one truck and 100 close-packed stops through the real service (the real
solver makes the route), publishes it, then loads each page in headless Chromium several
times and reports the median of the browser's own navigation timings: the server's answer,
DOMContentLoaded, and the load event, which waits for the map frame and its Leaflet too.

    python -m benchmarks.pages [--stops 100] [--loads 7] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.demo import run_planning
from api.demo_day import publish
from api.main import create_app
from api.serve import running_service

ADMIN_KEY = "pages-benchmark"
ZONE = ZoneInfo("Asia/Shanghai")
TARGET_S = 1.0
# The browser's own clock for each phase, from the start of navigation, in milliseconds.
TIMINGS_JS = """() => {
  const [n] = performance.getEntriesByType("navigation");
  return {server: n.responseEnd - n.requestStart, ready: n.domContentLoadedEventEnd,
          load: n.loadEventEnd};
}"""


def seed(api: httpx.Client, day: dt.date, stops: int) -> None:
    """One depot, one big truck with a crew, and `stops` small orders a street apart."""
    api.post("/depots", json={"code": "WH", "lat": 30.66, "lon": 104.06}).raise_for_status()
    truck = {"code": "C01", "depot_code": "WH", "weight_kg": 20_000, "volume_m3": 200}
    api.post("/vehicles", json=truck).raise_for_status()
    staff = api.post("/staff", json={"name": "张伟", "phone": "13900139000", "role": "driver"})
    crew = {"date": day.isoformat(), "vehicle_code": "C01", "staff_id": staff.json()["id"]}
    api.post("/crews", json={**crew, "role": "driver"}).raise_for_status()
    for n in range(stops):
        order = {
            "external_id": f"SO-{n:04d}",
            "customer": f"客户{n}",
            "phone": "13800138000",
            "address": f"成都市成华区建设路{n + 1}号",
            "lat": 30.66 + 0.0015 * (n % 10),
            "lon": 104.07 + 0.0015 * (n // 10),
            "date": day.isoformat(),
            "slot": "morning" if n < stops // 2 else "afternoon",
            "service_minutes": 1,
            "cash_cny": 100 * (n % 3),
            "items": [
                {
                    "sku": f"SKU-{n % 7}",
                    "name": "瓷砖",
                    "quantity": 2,
                    "weight_kg": 20,
                    "volume_m3": 0.05,
                }
            ],
        }
        api.post("/orders", json=order).raise_for_status()


def measure(url: str, driver_key: str, paths: dict[str, str], loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {}
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context()
        answer = context.request.post(f"{url}/session", data={"key": driver_key})
        assert answer.ok, answer.text()
        page = context.new_page()
        for name, path in paths.items():
            runs = []
            for _ in range(loads):
                page.goto(f"{url}{path}", wait_until="load")
                runs.append(page.evaluate(TIMINGS_JS))
            results[name] = {
                phase: round(statistics.median(run[phase] for run in runs) / 1000, 3)
                for phase in ("server", "ready", "load")
            }
            print(f"{name:<28} " + "  ".join(f"{k} {v:.3f} s" for k, v in results[name].items()))
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__)
    parser.add_argument("--stops", type=int, default=100)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="pages-benchmark-"))
    settings = ServiceSettings(
        database_url=f"sqlite:///{folder / 'pages.db'}",
        bootstrap_admin_key=ADMIN_KEY,
        run_scheduler=False,
        map_tiles="none",  # the benchmark measures our pages, not a tile server
    )
    day = dt.date(2026, 11, 27)
    clock = Clock(settings.timezone, fixed=dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZONE))
    with (
        running_service(create_app(settings, clock=clock)) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=120
        ) as api,
    ):
        seed(api, day, args.stops)
        plan = run_planning(api, day, seconds=20)
        served = sum(len(route["stops"]) for route in plan["routes"])
        print(f"planned {served}/{args.stops} stops on one route")
        publish(api, plan)
        clock.fixed = dt.datetime.combine(day, dt.time(8, 0), tzinfo=ZONE)
        driver = api.post("/keys", json={"name": "C01", "role": "driver", "vehicle_code": "C01"})
        dispatcher = api.post("/keys", json={"name": "调度", "role": "dispatcher"})
        paths = {"driver page": f"/app/driver?date={day}"}
        timings = measure(url, driver.json()["key"], paths, args.loads)
        board = {"board page": f"/app/board?date={day}"}
        timings |= measure(url, dispatcher.json()["key"], board, args.loads)
    worst = max(t["load"] for t in timings.values())
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(f"slowest full load {worst:.3f} s; target under {TARGET_S:.0f} s: {verdict}")
    if args.json:
        record = {"stops": served, "loads": args.loads, "timings_s": timings, "target_s": TARGET_S}
        args.json.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

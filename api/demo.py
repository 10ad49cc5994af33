"""The newcomer's tour: an empty database, the fixture day booked over HTTP, planned, exported.

Starts the real service on a free local port, loads the fixture's fleet and orders through
the API as the order system and a dispatcher would, runs the planning job with a progress
bar, and saves the dispatch sheet, picking lists and route map next to the database. Then it
publishes the plan and walks one crew through its day (api.demo_day), the technicians' next
day (api.demo_service) and one take-back repair (api.demo_repairs), and checks the records.
Last, a chain of stores in a second database: two areas planned at once (api.demo_chain).
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from api.core.config import ServiceSettings
from api.demo_day import pick_crew, walk_crew_day
from api.demo_repairs import take_back_tour
from api.demo_service import technicians_day
from api.main import create_app
from api.plan_text import SearchDisplay, text_console
from api.serve import running_service
from fixtures.banks import CHENGDU_BANKS, HOURS
from fixtures.catalogue import install_type
from optimizer.dayfile import read_day

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "chengdu_day.json"
# The demo's day is cash-heavy, as after a promotion paid on delivery: every cash amount of
# the fixture half again, so the trucks carry more than their caps over the day and bank
# at midday (no single order reaches the ¥50,000 cap).
CASH_HEAVY = 1.5


def ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.text}")
    return answer.json() if answer.content else None


def load_fleet(
    api: httpx.Client, day: dict[str, Any], on: dt.date, area: str | None = None
) -> None:
    """The day's skills, depots, vehicles and crews on `on`; depots and staff in `area` (None:
    the only area)."""
    owner = {} if area is None else {"area_code": area}
    for skill in day["skills"]:
        answer = api.post("/skills", json={"name": skill})
        if answer.status_code != 409:  # another store of the chain declared it already
            ok(answer)
    for depot in day["depots"]:
        fields = {k: depot[k] for k in ("name", "lat", "lon", "opens", "closes")}
        ok(api.post("/depots", json={"code": depot["id"], **fields, **owner}))
    for vehicle in day["vehicles"]:
        ok(
            api.post(
                "/vehicles",
                json={
                    "code": vehicle["id"],
                    "name": vehicle.get("name", ""),
                    "kind": vehicle["kind"],
                    "depot_code": vehicle["depot"],
                    "weight_kg": vehicle["weight_kg"],
                    "volume_m3": vehicle["volume_m3"],
                    "cash_cap_cny": vehicle.get("cash_cap_cny"),
                    "skills": vehicle.get("skills", []),
                    "shift_start": vehicle["shift"][0],
                    "shift_end": vehicle["shift"][1],
                    "crew_size": len(vehicle.get("crew", [])) or 1,
                },
            )
        )
        for member in vehicle.get("crew", []):
            staff = ok(
                api.post(
                    "/staff",
                    json={
                        "name": member["name"],
                        "phone": member.get("phone", ""),
                        "role": member["role"],
                        **owner,
                    },
                )
            )
            ok(
                api.post(
                    "/crews",
                    json={
                        "date": on.isoformat(),
                        "vehicle_code": vehicle["id"],
                        "staff_id": staff["id"],
                        "role": member["role"],
                    },
                )
            )


def _slot_of(visit: dict[str, Any]) -> str:
    if "slot" in visit:
        return str(visit["slot"])
    # A customer-chosen window books the half-day it starts in.
    return "morning" if visit["window"][0] < "12:00" else "afternoon"


def order_body(visit: dict[str, Any], on: dt.date, cash_factor: float = 1.0) -> dict[str, Any]:
    """POST /orders for a day file's visit, booked for `on`; it names no area."""
    return {
        "external_id": visit["id"],
        "customer": visit["customer"],
        "phone": visit["phone"],
        "address": visit["address"],
        "lat": visit["lat"],
        "lon": visit["lon"],
        "service_type": visit["kind"],
        "date": on.isoformat(),
        "slot": _slot_of(visit),
        "cash_cny": round(visit.get("cash_cny", 0) * cash_factor),
        "skills": visit.get("skills", []),
        "priority": visit.get("priority", 1),
        "min_crew": visit.get("min_crew", 1),
        "service_minutes": visit.get("service_min", 20),
        "items": [
            {
                "sku": i["sku"],
                "name": i["name"],
                "quantity": i["qty"],
                "weight_kg": i["weight_kg"],
                "volume_m3": i["volume_m3"],
                "install_type": install_type(i["sku"]),
            }
            for i in visit.get("items", [])
        ],
    }


def book_orders(
    api: httpx.Client, day: dict[str, Any], source: str, on: dt.date, cash_factor: float = 1.0
) -> int:
    booked = 0
    for visit in day["visits"]:
        if visit["date"] != source:
            continue
        ok(api.post("/orders", json=order_body(visit, on, cash_factor)))
        booked += 1
    return booked


def add_banks(api: httpx.Client, banks: tuple[dict[str, Any], ...]) -> int:
    """The city's bank branches, where crews of two may deposit cash mid-route."""
    for bank in banks:
        ok(api.post("/banks", json={**HOURS, **bank}))
    return len(banks)


def deposit_lines(plan: dict[str, Any]) -> list[str]:
    """Each planned bank stop: "C07 deposits ¥48,200 at 工商银行成华支行 11:40–11:55"."""
    return [
        f"  {route['vehicle_code']} deposits ¥{deposit['amount_cny']:,.0f} at "
        f"{deposit['bank_name'] or deposit['bank_code']} {deposit['start']}–"
        f"{deposit['departure']}, after stop {deposit['after']}"
        for route in plan["routes"]
        for deposit in route.get("deposits", [])
    ]


def run_planning(api: httpx.Client, on: dt.date, seconds: float) -> dict[str, Any]:
    job = ok(api.post("/plans", json={"date": on.isoformat(), "time_limit_s": seconds}))
    with SearchDisplay(text_console(stderr=True)) as display:
        while job["status"] in ("queued", "running"):
            time.sleep(0.5)
            job = ok(api.get(f"/plans/jobs/{job['id']}"))
            # The job's own words and figures, as the board shows them.
            display.update(job["progress"], job["message"] or job["status"])
    if job["status"] != "succeeded":
        raise RuntimeError(f"planning ended {job['status']}: {job['message']}")
    return dict(ok(api.get(f"/plans/{job['plan_id']}")))


def save_exports(api: httpx.Client, plan_id: int, out: Path) -> list[Path]:
    written = []
    for name in ("dispatch-sheet.html", "dispatch-sheet.csv", "picking-lists.html", "map.html"):
        answer = api.get(f"/plans/{plan_id}/{name}")
        if answer.status_code == 404:
            continue
        _ok_status(answer)
        path = out / name
        path.write_bytes(answer.content)
        written.append(path)
    return written


def _ok_status(answer: httpx.Response) -> None:
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.request.url}: {answer.status_code} {answer.text[:200]}")


def summary(plan: dict[str, Any]) -> str:
    lines = []
    for route in plan["routes"]:
        cash = max((s["cash_cny"] for s in route["stops"]), default=0)
        lines.append(
            f"  {route['vehicle_code']:<5} {len(route['stops']):>3} stops  "
            f"{route['departure']}–{route['return_time']}  {route['distance_km']:>6.1f} km  "
            f"cash on board up to {cash:>8,.0f} CNY"
        )
    lines += deposit_lines(plan) or ["  no bank deposits planned"]
    lines.append(f"  unassigned: {len(plan['unassigned'])}")
    lines += [f"    {u['external_id']}: {u['reason']}" for u in plan["unassigned"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-out"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--chain-seconds", type=float, default=10.0, help="each store's search in the chain part"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    database = args.out / "dispatch.db"
    for stale in args.out.glob("dispatch.db*"):
        stale.unlink()
    key = secrets.token_urlsafe(24)
    settings = ServiceSettings(
        database_url=f"sqlite:///{database}", bootstrap_admin_key=key, run_scheduler=False
    )
    day = read_day(FIXTURE)
    source = day["visits"][0]["date"]
    # Book the fixture's orders for the first date the lead-time rule allows.
    on = dt.date.today() + dt.timedelta(days=settings.booking_lead_days + 1)
    with running_service(create_app(settings)) as url:
        print(f"service running at {url} (OpenAPI docs at {url}/docs), database {database}")
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as api:
            load_fleet(api, day, on)
            print(f"{add_banks(api, CHENGDU_BANKS)} bank branches for deposits through POST /banks")
            booked = book_orders(api, day, source, on, CASH_HEAVY)
            print(f"booked {booked} orders for {on} through POST /orders (cash-heavy day)")
            plan = run_planning(api, on, args.seconds)
            kpis = plan["kpis"]
            print(
                f"plan {plan['id']} for {on}: {kpis['visits_routed']}/{kpis['visits_total']} "
                f"visits routed, {kpis['distance_km']:.1f} km"
            )
            print(summary(plan))
            for path in save_exports(api, plan["id"], args.out):
                print(f"written {path}")
            print("publishing, then one crew's day through the handover and cash API:")
            route = pick_crew(plan)
            for line in walk_crew_day(api, plan, settings.timezone, args.out):
                print(line)
            print("the technicians' next day: installations of what was delivered, a repair:")
            # walk_crew_day fails the second stop; the others were handed over.
            delivered = [s for n, s in enumerate(route["stops"]) if n != 1]
            plan_day = partial(run_planning, api, seconds=min(args.seconds, 5.0))
            for line in technicians_day(api, on, settings.timezone, delivered, plan_day):
                print(line)
            print("a take-back repair, from the receipt to the signed return:")
            later = on + dt.timedelta(days=2)
            for line in take_back_tour(api, later, settings.timezone, delivered[-1], plan_day):
                print(line)
    print(audit_line(settings))
    # Imported here: the chain part builds on this module's loaders.
    from api.demo_chain import chain_tour

    chain_tour(args.out, args.chain_seconds)
    print(f"demo done in {time.monotonic() - started:.0f} s")
    return 0


def audit_line(settings: ServiceSettings) -> str:
    """The same check as `dispatch audit verify`, on the demo's database."""
    from sqlmodel import Session

    from api.core.db import make_engine
    from api.records.audit import verify

    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        problems = verify(session)
    engine.dispose()
    return "audit: records intact" if not problems else "audit: " + "; ".join(problems)


if __name__ == "__main__":
    sys.exit(main())

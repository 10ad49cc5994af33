"""The demo's last part: a chain of stores, two of them planned at once, each desk on its own.

A second database holds the chain fixture (fixtures/chain.json): three stores in two cities,
each an area with its depots, fleet and crews. Their orders are booked without naming an
area, so the nearest depot decides. A dispatcher key scoped to each of two stores queues that
store's planning job at the same moment; the service runs two planning workers, so both
searches run at once. Then each desk lists plans and orders and asks for the other's plan.
Everything it prints is what the API answered, including any boundary not drawn yet.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from api.core.config import ServiceSettings
from api.demo import FIXTURE, load_fleet, ok, order_body
from api.main import create_app
from api.serve import running_service
from optimizer.dayfile import read_day

CHAIN = FIXTURE.with_name("chain.json")
PLANNED = ("cd-chenghua", "sh-pudong")  # two stores in two cities, of different sizes
Say = Callable[[str], None]


def _area_line(area: dict[str, Any]) -> str:
    own = []
    if {"morning_start", "morning_end"} & set(area["overrides"]):
        own.append(f"morning slot {area['morning_start'][:5]}–{area['morning_end'][:5]}")
    if "cash_cap_cny" in area["overrides"]:
        own.append(f"cash cap {area['cash_cap_cny']:,} CNY")
    return (
        f"  {area['code']:<12} {area['name']} ({area['city']}, {area['timezone']}), "
        f"depots {', '.join(area['depots'])}; "
        + ("own settings: " + "; ".join(own) if own else "the chain's settings")
    )


def load_chain(api: httpx.Client, chain: dict[str, Any], on: dt.date, say: Say) -> None:
    """Every store's area, fleet and crews, then its orders, which name no area."""
    days = {}
    for area in chain["areas"]:
        fields = {k: area[k] for k in ("code", "name", "city", "timezone")}
        ok(api.post("/areas", json={**fields, **area["overrides"]}))
        days[area["code"]] = read_day(CHAIN.with_name(area["day"]))
        load_fleet(api, days[area["code"]], on, area=area["code"])
    say("areas (GET /areas):")
    for area in ok(api.get("/areas")):
        if area["depots"]:  # the default area of a fresh database stays empty here
            say(_area_line(area))
    placed: Counter[str] = Counter()
    strays = []
    for code, day in days.items():
        for visit in day["visits"]:
            order = ok(api.post("/orders", json=order_body(visit, on)))
            placed[order["area_code"]] += 1
            if order["area_code"] != code:
                strays.append(f"{visit['id']} (in {code}'s day) went to {order['area_code']}")
    tally = ", ".join(f"{code} {count}" for code, count in sorted(placed.items()))
    say(f"booked {sum(placed.values())} orders for {on} naming no area; nearest depot: {tally}")
    if strays:
        say(f"  nearer another store's depot: {'; '.join(strays)}")


def plan_at_once(
    api: httpx.Client, desks: dict[str, dict[str, str]], on: dt.date, seconds: float, say: Say
) -> dict[str, dict[str, Any]]:
    """Each desk queues its area's job at the same moment; both are waited for."""
    jobs = {
        code: ok(
            api.post(
                "/plans",
                json={"date": on.isoformat(), "area": code, "time_limit_s": seconds},
                headers=headers,
            )
        )
        for code, headers in desks.items()
    }
    queued = ", ".join(f"job {job['id']} ({code})" for code, job in jobs.items())
    say(f"queued {queued} together")
    polls = 0
    while any(job["status"] in ("queued", "running") for job in jobs.values()):
        time.sleep(0.5)
        jobs = {
            code: ok(api.get(f"/plans/jobs/{job['id']}", headers=desks[code]))
            for code, job in jobs.items()
        }
        polls += 1
        if polls % 10 == 0:  # every five seconds, each job's own words
            words = (f"{code} {job['progress']:.0%} {job['message']}" for code, job in jobs.items())
            say("  " + "; ".join(words))
    for code, job in jobs.items():
        if job["status"] != "succeeded":
            raise RuntimeError(f"planning {code} ended {job['status']}: {job['message']}")
        start, end = (dt.datetime.fromisoformat(job[k]) for k in ("started_at", "finished_at"))
        say(
            f"  {code:<12} job {job['id']} searched {start:%H:%M:%S}–{end:%H:%M:%S}: plan "
            f"{job['plan_id']}, {job['visits_routed'] or 0} visits routed, "
            f"{job['distance_km'] or 0:.1f} km"
        )
    starts = [dt.datetime.fromisoformat(job["started_at"]) for job in jobs.values()]
    ends = [dt.datetime.fromisoformat(job["finished_at"]) for job in jobs.values()]
    together = max(starts) < min(ends)
    say("  both areas were planned at once" if together else "  the jobs ran one after the other")
    return jobs


def _plan_sets(api: httpx.Client, plan_id: int) -> tuple[set[str], set[str]]:
    plan = ok(api.get(f"/plans/{plan_id}"))
    routes = [route for route in plan["routes"] if route["stops"]]
    visits = {stop["external_id"] for route in routes for stop in route["stops"]}
    return visits, {route["vehicle_code"] for route in routes}


def desk_views(
    api: httpx.Client, desks: dict[str, dict[str, str]], jobs: dict[str, Any], on: dt.date
) -> list[str]:
    """What each desk sees, and whether the two plans share anything; the last line is the
    verdict."""
    plans = {code: int(job["plan_id"]) for code, job in jobs.items()}
    (a, b), said, apart = list(desks), [], True
    (visits_a, crews_a), (visits_b, crews_b) = _plan_sets(api, plans[a]), _plan_sets(api, plans[b])
    shared = (len(visits_a & visits_b), len(crews_a & crews_b))
    said.append(
        f"plans {plans[a]} ({a}) and {plans[b]} ({b}) share {shared[0]} visits and "
        f"{shared[1]} crews"
    )
    apart &= shared == (0, 0)
    day = {"date": on.isoformat()}
    # One order of each area, as the chain-wide admin sees them.
    sample = {order["area_code"]: order["external_id"] for order in ok(api.get("/orders"))}
    for code, other in ((a, b), (b, a)):
        headers = desks[code]
        listed = [p["id"] for p in ok(api.get("/plans", params=day, headers=headers))]
        orders = ok(api.get("/orders", params=day, headers=headers))
        areas = Counter(order["area_code"] for order in orders)
        plan = api.get(f"/plans/{plans[other]}", headers=headers).status_code
        order = api.get(f"/orders/{sample[other]}", headers=headers).status_code
        said.append(
            f"desk {code}: GET /plans → plan(s) {listed}; GET /orders → "
            + ", ".join(f"{n} of {area}" for area, n in sorted(areas.items()))
            + f"; {other}'s plan {plans[other]} → {plan}, its order {sample[other]} → {order}"
        )
        apart &= listed == [plans[code]] and set(areas) == {code} and plan == order == 403
    said.append(
        "each desk sees only its own area"
        if apart
        else "NOT YET SEPARATED: a desk sees another area's plans or orders (see above)"
    )
    return said


def chain_tour(out: Path, seconds: float, say: Say = print) -> bool:
    """The chain part of the demo in its own database under `out`; True if each desk saw
    only its own area."""
    database = out / "chain.db"
    for stale in out.glob("chain.db*"):
        stale.unlink()
    key = secrets.token_urlsafe(24)
    settings = ServiceSettings(
        database_url=f"sqlite:///{database}",
        bootstrap_admin_key=key,
        run_scheduler=False,
        worker_threads=2,  # one planning search per store at once
    )
    chain = json.loads(CHAIN.read_text(encoding="utf-8"))
    on = dt.date.today() + dt.timedelta(days=settings.booking_lead_days + 1)
    admin = {"Authorization": f"Bearer {key}"}
    with (
        running_service(create_app(settings)) as url,
        httpx.Client(base_url=url, headers=admin, timeout=60) as api,
    ):
        say(f"a chain of stores, database {database}:")
        load_chain(api, chain, on, say)
        desks = {}
        for code in PLANNED:
            body = {"name": f"{code} 调度", "role": "dispatcher", "areas": [code]}
            desks[code] = {"Authorization": f"Bearer {ok(api.post('/keys', json=body))['key']}"}
        say(f"dispatcher keys scoped to {' and '.join(PLANNED)}; both desks plan {on}:")
        jobs = plan_at_once(api, desks, on, seconds, say)
        lines = desk_views(api, desks, jobs, on)
    for line in lines:
        say(line)
    return lines[-1].startswith("each desk")

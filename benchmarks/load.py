"""How the service holds up under concurrent clients: order intake, slot offers, driver route
reads and handover writes at once, on SQLite and on PostgreSQL, with and without a planning
job running.

    python -m benchmarks.load [--clients 20] [--seconds 60] [--requests 10000] \\
        [--databases sqlite,postgresql] [--planning off,on] [--json OUT.json]

Per database: a fresh database, the real service in its own process on a free loopback port
(as `dispatch serve` runs it), the Chengdu fixture's fleet and orders booked for two days over
the API, and the first day planned and published. Then `--clients` concurrent clients, each
sending one request at a time, mix the four kinds of request until `--requests` are done or
`--seconds` have passed. With planning on, a planning job for the second day runs for the
whole time. Reported per kind, for reads, writes and all: requests, throughput, p50, p95,
p99 and errors (any answer of 400 or more, or no answer).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import random
import statistics
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from benchmarks.load_service import (
    ADMIN_KEY,
    FIXTURE,
    Day,
    database,
    ok,
    order_body,
    plan,
    prepare,
    running_server,
)
from optimizer.dayfile import read_day

# How often each kind is sent, and whether it reads or writes.
MIX = {"order intake": 2, "slot offers": 3, "driver route": 3, "handover": 2}
WRITES = {"order intake", "handover"}
# The targets with 20 clients on 2 cores while a plan runs.
TARGET_READ_P95_MS = 300
TARGET_WRITE_P95_MS = 500
ZONE = ZoneInfo("Asia/Shanghai")
KEPT_ERRORS = 5


def tiny_png() -> str:
    """A real 2x2 PNG, base64: a photo any image decoder accepts."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    return base64.b64encode(png + chunk(b"IEND", b"")).decode()


PHOTO = tiny_png()
Step = tuple[str, str, dict[str, Any]]  # who (a key's name), path, body


def crew_steps(day: Day, vehicle: str) -> Iterator[Step]:
    """One crew's handover writes in the order the server accepts them, then photos forever."""
    route, base = day.routes[vehicle], f"/handover/{day.date}"

    def at(hhmm: str, plus_s: int = 0) -> str:
        moment = dt.datetime.combine(day.date, dt.time.fromisoformat(hhmm), tzinfo=ZONE)
        return (moment + dt.timedelta(seconds=plus_s)).isoformat()

    lines = day.loading[vehicle]
    if lines:
        counts = [{"order": x["order"], "sku": x["sku"], "quantity": x["expected"]} for x in lines]
        count = {"keeper_name": "王库管", "at": at("07:30"), "counts": counts}
        yield "warehouse", f"{base}/loading/{vehicle}/count", count
        leader = route["crew"][0]["name"] if route["crew"] else "组长"
        sign = {"crew_leader_name": leader, "at": at("07:40")}
        yield vehicle, f"{base}/loading/{vehicle}/sign", sign
    yield (
        vehicle,
        f"{base}/routes/{vehicle}/depart",
        {"at": at("07:45"), "lat": 30.66, "lon": 104.06},
    )
    for stop in route["stops"]:
        place = {"at": at(stop["arrival"]), "lat": stop["lat"], "lon": stop["lon"]}
        stop_path = f"{base}/stops/{stop['external_id']}"
        yield vehicle, f"{stop_path}/arrive", place
        if stop["service_type"] == "delivery":
            counts = [{"sku": i["sku"], "quantity": i["quantity"]} for i in stop["items"]]
            yield vehicle, f"{stop_path}/deliver", {**place, "counts": counts}
        yield vehicle, f"{stop_path}/photos", {**place, "image": PHOTO, "caption": "到货"}
    for n in range(1, 10**9):  # a crew goes on adding photos of its last stop
        place = {"at": at(stop["arrival"], n), "lat": stop["lat"], "lon": stop["lon"]}
        yield vehicle, f"{stop_path}/photos", {**place, "image": PHOTO, "caption": f"照片 {n}"}


@dataclass
class Load:
    """The shared state of one run: the budget, the timings and each crew's next write."""

    day: Day
    requests: int
    deadline: float
    rng: random.Random
    visits: list[dict[str, Any]]
    crews: dict[str, Iterator[Step]]
    locks: dict[str, asyncio.Lock]
    timings: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in MIX})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MIX, 0))
    examples: list[str] = field(default_factory=list)
    sent: int = 0

    def take(self) -> str | None:
        """The kind of the next request, or None once the budget or the time is spent."""
        if self.sent >= self.requests or time.monotonic() >= self.deadline:
            return None
        self.sent += 1
        return self.rng.choices(list(MIX), weights=list(MIX.values()))[0]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.day.keys[who]}"}


async def _intake(load: Load, http: httpx.AsyncClient) -> httpx.Response:
    visit = load.rng.choice(load.visits)
    date = load.day.next_date + dt.timedelta(days=load.rng.randrange(3))
    body = order_body(visit, f"LOAD-{uuid.uuid4().hex[:12]}", date)
    return await http.post("/orders", json=body, headers=load.auth("order_system"))


async def _slots(load: Load, http: httpx.AsyncClient) -> httpx.Response:
    visit = load.rng.choice(load.visits)
    weight = sum(i["weight_kg"] * i["qty"] for i in visit.get("items", []))
    volume = sum(i["volume_m3"] * i["qty"] for i in visit.get("items", []))
    query = {
        "lat": round(visit["lat"] + load.rng.uniform(-0.01, 0.01), 6),
        "lon": round(visit["lon"] + load.rng.uniform(-0.01, 0.01), 6),
        "weight_kg": round(weight, 3),
        "volume_m3": round(volume, 3),
        "cash_cny": visit.get("cash_cny", 0),
    }
    return await http.get("/slots", params=query, headers=load.auth("order_system"))


async def _route(load: Load, http: httpx.AsyncClient) -> httpx.Response:
    vehicle = load.rng.choice(list(load.day.routes))
    path = f"/driver/route?date={load.day.date}"
    return await http.get(path, headers=load.auth(vehicle))


async def _handover(load: Load, http: httpx.AsyncClient) -> httpx.Response:
    # A crew writes one record at a time: take a crew no other client is writing for.
    vehicles = list(load.crews)
    load.rng.shuffle(vehicles)
    vehicle = next((v for v in vehicles if not load.locks[v].locked()), vehicles[0])
    async with load.locks[vehicle]:
        who, path, body = next(load.crews[vehicle])
        headers = {**load.auth(who), "Idempotency-Key": uuid.uuid4().hex}
        return await http.post(path, json=body, headers=headers)


SENDERS = {
    "order intake": _intake,
    "slot offers": _slots,
    "driver route": _route,
    "handover": _handover,
}


async def _client(load: Load, http: httpx.AsyncClient) -> None:
    while (kind := load.take()) is not None:
        started = time.perf_counter()
        try:
            answer = await SENDERS[kind](load, http)
            failed = answer.status_code >= 400
            why = f"{answer.status_code} {answer.request.method} {answer.request.url.path}: "
            why += answer.text[:200]
        except httpx.HTTPError as error:
            failed, why = True, f"{kind}: {type(error).__name__}: {error}"
        load.timings[kind].append(time.perf_counter() - started)
        if failed:
            load.errors[kind] += 1
            if len(load.examples) < KEPT_ERRORS:
                load.examples.append(why)


async def _progress(load: Load, started: float) -> None:
    while True:
        await asyncio.sleep(5)
        done = sum(len(t) for t in load.timings.values())
        print(f"  {time.monotonic() - started:5.0f} s  {done} requests", flush=True)


async def run_clients(load: Load, clients: int) -> float:
    """Run every client to the end; the wall seconds it took."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=load.day.url, limits=limits, timeout=120) as http:
        ticker = asyncio.create_task(_progress(load, started))
        await asyncio.gather(*(_client(load, http) for _ in range(clients)))
        ticker.cancel()
    return time.monotonic() - started


def _row(name: str, timings: list[float], errors: int, seconds: float) -> dict[str, Any]:
    ms = sorted(t * 1000 for t in timings)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "kind": name,
        "requests": len(ms),
        "per_s": round(len(ms) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(cuts[49], 1) if ms else None,
        "p95_ms": round(cuts[94], 1) if ms else None,
        "p99_ms": round(cuts[98], 1) if ms else None,
        "errors": errors,
    }


def summarise(load: Load, seconds: float) -> list[dict[str, Any]]:
    """One row per kind, then reads, writes and all together."""
    rows = [_row(k, load.timings[k], load.errors[k], seconds) for k in MIX]
    groups = {
        "reads": [k for k in MIX if k not in WRITES],
        "writes": [k for k in MIX if k in WRITES],
        "all": list(MIX),
    }
    for name, kinds in groups.items():
        timings = [t for k in kinds for t in load.timings[k]]
        rows.append(_row(name, timings, sum(load.errors[k] for k in kinds), seconds))
    return rows


COLUMNS = ("requests", "per_s", "p50_ms", "p95_ms", "p99_ms", "errors")
HEADS = ("requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table, readable in a terminal and pasted into the README."""
    lines = ["| kind | " + " | ".join(HEADS) + " |", "| --- |" + " ---: |" * len(HEADS)]
    for row in rows:
        cells = ["-" if row[c] is None else f"{row[c]:,}" for c in COLUMNS]
        lines.append(f"| {row['kind']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scenario(
    day: Day, crews: dict[str, Iterator[Step]], args: argparse.Namespace, planning: bool
) -> dict[str, Any]:
    """One timed run of the clients; with `planning`, a planning job runs throughout."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=day.url, headers=admin, timeout=120) as api:
        job = None
        if planning:
            # Longer than the run, so the search is busy from the first request to the last.
            job = plan(api, day.next_date, args.seconds + 60)
            while ok(api.get(f"/plans/jobs/{job['id']}"))["status"] == "queued":
                time.sleep(0.2)
        fixture = read_day(FIXTURE)
        load = Load(
            day=day,
            requests=args.requests,
            deadline=time.monotonic() + args.seconds,
            rng=random.Random(args.seed),
            visits=fixture["visits"],
            crews=crews,
            locks={vehicle: asyncio.Lock() for vehicle in crews},
        )
        seconds = asyncio.run(run_clients(load, args.clients))
        if job is not None:
            planned = ok(api.get(f"/plans/jobs/{job['id']}"))
            if planned["status"] in ("queued", "running"):
                ok(api.post(f"/plans/jobs/{job['id']}/cancel"))
            else:
                # A day that fits the fleet can be solved before the run ends; the figures
                # then hold a stretch without planning, so the run says so.
                load.examples.append(f"the planning job ended early: {planned['message']}")
    rows = summarise(load, seconds)
    return {"seconds": round(seconds, 1), "rows": rows, "error_examples": load.examples}


def run_database(kind: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    records = []
    with database(kind) as url, running_server(url) as base:
        print(f"{kind}: service at {base}; booking and planning the day", flush=True)
        day = prepare(base, args.plan_seconds)
        crews = {vehicle: crew_steps(day, vehicle) for vehicle in day.routes}
        for planning in args.planning:
            print(
                f"{kind}, planning {'on' if planning else 'off'}: {args.clients} clients",
                flush=True,
            )
            result = scenario(day, crews, args, planning)
            record = {"database": kind, "planning": planning, "clients": args.clients, **result}
            print(table(record["rows"]))
            for example in record["error_examples"]:
                print(f"  error: {example}")
            records.append(record)
    return records


def verdict(records: list[dict[str, Any]]) -> str:
    lines = []
    for record in records:
        if not record["planning"]:
            continue
        by = {row["kind"]: row for row in record["rows"]}
        met = (
            by["all"]["errors"] == 0
            and (by["reads"]["p95_ms"] or 0) <= TARGET_READ_P95_MS
            and (by["writes"]["p95_ms"] or 0) <= TARGET_WRITE_P95_MS
        )
        lines.append(
            f"{record['database']} while planning: reads p95 {by['reads']['p95_ms']} ms "
            f"(target {TARGET_READ_P95_MS}), writes p95 {by['writes']['p95_ms']} ms "
            f"(target {TARGET_WRITE_P95_MS}), {by['all']['errors']} errors: "
            + ("met" if met else "MISSED")
        )
    return "\n".join(lines)


def _switches(text: str) -> list[bool]:
    return [{"off": False, "on": True}[word.strip()] for word in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="at most, per run")
    parser.add_argument("--requests", type=int, default=10_000, help="at most, per run")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--planning", type=_switches, default=[False, True], help="off,on")
    parser.add_argument("--plan-seconds", type=float, default=10.0, help="to plan the first day")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the records here")
    args = parser.parse_args(argv)
    records = []
    for kind in args.databases.split(","):
        records += run_database(kind.strip(), args)
    print(verdict(records))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The load benchmark's service: a throwaway database, the real server in its own process,
and a published day booked from the Chengdu fixture, all through the public HTTP API.

The service runs as `dispatch serve` runs it (uvicorn in a child process of the code in the
current directory), so the benchmark measures what a store runs, and can be pointed at an
older checkout to measure it the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

import httpx

from optimizer.dayfile import read_day

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "chengdu_day.json"
ADMIN_KEY = "load-benchmark-admin"
LEAD_DAYS = 3  # the service's booking lead time; the published day is the first one after it
START_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(*command: str) -> list[str]:
    # The server refuses to run as root; run it as the postgres system user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


@contextmanager
def postgres_database() -> Iterator[str]:
    """URL of a database in a throwaway PostgreSQL cluster on a free loopback port."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not installed (apt-get install postgresql)")
    binaries = found[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="load-benchmark-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port, data = free_port(), folder / "data"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "check": True}
    initdb = str(binaries / "initdb")
    subprocess.run(_as_postgres(initdb, "-D", str(data), "-A", "trust", "-U", "app"), **quiet)
    pg_ctl = str(binaries / "pg_ctl")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    log = str(folder / "log")
    subprocess.run(
        _as_postgres(pg_ctl, "-D", str(data), "-w", "-l", log, "-o", options, "start"), **quiet
    )
    try:
        server = f"postgresql+psycopg://app@127.0.0.1:{port}"
        createdb = str(binaries / "createdb")
        subprocess.run(
            _as_postgres(createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "app", "dispatch"),
            **quiet,
        )
        yield f"{server}/dispatch"
    finally:
        stop = _as_postgres(pg_ctl, "-D", str(data), "-m", "fast", "stop")
        subprocess.run(stop, stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database of `kind` (sqlite or postgresql), removed afterwards."""
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="load-benchmark-"))
    try:
        yield f"sqlite:///{folder / 'dispatch.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running_server(
    database_url: str, settings: Mapping[str, str] = MappingProxyType({})
) -> Iterator[str]:
    """`dispatch serve` in a child process on a free loopback port, with `settings` (more
    environment variables) on top of the benchmark's own; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DISPATCH_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "DISPATCH_RUN_SCHEDULER": "false",
        "DISPATCH_MAP_TILES": "none",
        "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
        **settings,
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    # The server's log goes to a file: its lines would break up the progress and the tables.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield _wait_until_up(server, log, port)
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], log: IO[bytes], port: int) -> str:
    """The server's base URL once it answers; its log on stderr when it never does."""
    url = f"http://127.0.0.1:{port}"
    try:
        _poll(server, url)
    except RuntimeError:
        log.seek(0)
        sys.stderr.write(log.read()[-4000:].decode(errors="replace"))
        raise
    return url


def _poll(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the service exited with {server.returncode} while starting")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service did not answer within {START_S:.0f} s")


def ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.text[:300]}")
    return answer.json() if answer.content else None


@dataclass
class Day:
    """What the clients need: the dates, the keys, and each crew's published route."""

    url: str
    date: dt.date  # the published day the crews work through
    next_date: dt.date  # booked too; a planning job plans it while the clients run
    keys: dict[str, str] = field(default_factory=dict)  # role -> key; drivers by vehicle
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)  # vehicle -> driver route
    loading: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # vehicle -> lines
    places: list[tuple[float, float]] = field(default_factory=list)  # the fixture's addresses


def _fleet(api: httpx.Client, fixture: dict[str, Any], dates: list[dt.date]) -> None:
    # Not api.demo.load_fleet: that books crews for one date, and the benchmark must also run
    # against older checkouts, whose demo may differ, to measure "before" the same way.
    for skill in fixture["skills"]:
        ok(api.post("/skills", json={"name": skill}))
    for depot in fixture["depots"]:
        fields = {k: depot[k] for k in ("name", "lat", "lon", "opens", "closes")}
        ok(api.post("/depots", json={"code": depot["id"], **fields}))
    for vehicle in fixture["vehicles"]:
        body = {
            "code": vehicle["id"],
            "kind": vehicle["kind"],
            "depot_code": vehicle["depot"],
            "weight_kg": vehicle["weight_kg"],
            "volume_m3": vehicle["volume_m3"],
            "cash_cap_cny": vehicle.get("cash_cap_cny"),
            "skills": vehicle.get("skills", []),
            "shift_start": vehicle["shift"][0],
            "shift_end": vehicle["shift"][1],
            "crew_size": len(vehicle.get("crew", [])) or 1,
        }
        ok(api.post("/vehicles", json=body))
        for member in vehicle.get("crew", []):
            person = {
                "name": member["name"],
                "phone": member.get("phone", ""),
                "role": member["role"],
            }
            staff = ok(api.post("/staff", json=person))
            for date in dates:
                crew = {
                    "vehicle_code": vehicle["id"],
                    "staff_id": staff["id"],
                    "role": member["role"],
                }
                ok(api.post("/crews", json={"date": date.isoformat(), **crew}))


def order_body(visit: dict[str, Any], external_id: str, date: dt.date) -> dict[str, Any]:
    """A booking of the fixture's `visit` under another id and date."""
    slot = visit.get("slot") or ("morning" if visit["window"][0] < "12:00" else "afternoon")
    items = [
        {k: i[k] for k in ("sku", "name", "weight_kg", "volume_m3")} | {"quantity": i["qty"]}
        for i in visit.get("items", [])
    ]
    return {
        "external_id": external_id,
        "customer": visit["customer"],
        "phone": visit["phone"],
        "address": visit["address"],
        "lat": visit["lat"],
        "lon": visit["lon"],
        "service_type": visit["kind"],
        "date": date.isoformat(),
        "slot": slot,
        "cash_cny": visit.get("cash_cny", 0),
        "skills": visit.get("skills", []),
        "priority": visit.get("priority", 1),
        "min_crew": visit.get("min_crew", 1),
        "service_minutes": visit.get("service_min", 20),
        "items": items,
    }


def plan(api: httpx.Client, date: dt.date, seconds: float) -> dict[str, Any]:
    """Start a planning job for `date`; its job record."""
    return dict(ok(api.post("/plans", json={"date": date.isoformat(), "time_limit_s": seconds})))


def wait_for(api: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    while job["status"] in ("queued", "running"):
        time.sleep(0.5)
        job = ok(api.get(f"/plans/jobs/{job['id']}"))
    if job["status"] != "succeeded":
        raise RuntimeError(f"planning ended {job['status']}: {job['message']}")
    return job


def prepare(url: str, plan_seconds: float) -> Day:
    """Fleet, both days' orders, the first day planned and published, and every key."""
    fixture = read_day(FIXTURE)
    visits = [v for v in fixture["visits"] if v["date"] == fixture["visits"][0]["date"]]
    today = dt.date.today()
    day = Day(
        url, today + dt.timedelta(days=LEAD_DAYS + 1), today + dt.timedelta(days=LEAD_DAYS + 2)
    )
    day.places = [(v["lat"], v["lon"]) for v in visits]
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=url, headers=admin, timeout=120) as api:
        _fleet(api, fixture, [day.date, day.next_date])
        for n, date in enumerate((day.date, day.next_date)):
            for visit in visits:
                ok(api.post("/orders", json=order_body(visit, f"{visit['id']}-{n}", date)))
        job = wait_for(api, plan(api, day.date, plan_seconds))
        published = ok(api.get(f"/plans/{job['plan_id']}"))
        tag = {"If-Match": f'"{published["version"]}"'}
        ok(api.post(f"/plans/{published['id']}/publish", headers=tag))
        for role in ("order_system", "dispatcher", "warehouse"):
            day.keys[role] = ok(api.post("/keys", json={"name": role, "role": role}))["key"]
        for route in published["routes"]:
            vehicle = route["vehicle_code"]
            if not route["stops"]:
                continue
            body = {"name": vehicle, "role": "driver", "vehicle_code": vehicle}
            day.keys[vehicle] = ok(api.post("/keys", json=body))["key"]
            driver = {"Authorization": f"Bearer {day.keys[vehicle]}"}
            day.routes[vehicle] = ok(api.get(f"/driver/route?date={day.date}", headers=driver))
            loading = api.get(f"/handover/{day.date}/loading/{vehicle}")
            day.loading[vehicle] = ok(loading)["lines"]
    return day

"""A repair ticket visited for real, ready for its goods to be taken back.

The ticket is opened, answered and scheduled three days ahead; DAY is planned and published
(which assigns it to the repair technician T01); on DAY T01 leaves, arrives and has the
customer sign a service report saying the product goes back to the workshop.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import PNG
from plan_helpers import DAY, ZONE, app_at, if_match, store_solved

from api.core.config import ServiceSettings

ON_SITE = dt.datetime.combine(DAY, dt.time(10, 30), tzinfo=ZONE)
TECHNICIAN = "T01"
TICKET = {
    "external_id": "TK-9",
    "category": "repair",
    "description": "抽油烟机不转",
    "customer_name": "李四",
    "customer_phone": "13900000000",
    "equipment": "抽油烟机 CXW-200",
    "service_type": "repair",
    "on_site_at": ON_SITE.isoformat(),
    "address": "成都市成华区建设路9号",
    "lat": 30.67,
    "lon": 104.08,
}
TAKE_BACK = {
    "product": "抽油烟机 CXW-200",
    "serial": "SN-77821",
    "condition": "外壳左侧轻微划痕",
    "accessories": "遥控器一个",
    "fault": "电机不转, 现场无法修复",
    "under_warranty": False,
}


@dataclass(frozen=True)
class Visited:
    ticket_id: int
    report_id: int  # the service report the customer signed at the visit
    boss: dict[str, str]  # the area's dispatcher
    technician: dict[str, str]  # T01's key


def write(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str], key: str = ""
) -> Any:
    """A POST with its own Idempotency-Key (or the one given, to retry)."""
    headers = {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(path, json=body, headers=headers)


def created(answer: Any) -> Any:
    assert answer.status_code == 201, answer.text
    return answer.json()


def add_technician(client: TestClient, admin: dict[str, str], depot: str) -> None:
    """T01, a one-person repair technician at `depot`, and the repair skill."""
    client.post("/skills", json={"name": "repair"}, headers=admin)  # 409 once it exists
    body = {
        "code": TECHNICIAN,
        "kind": "technician",
        "depot_code": depot,
        "weight_kg": 150,
        "volume_m3": 1.5,
        "skills": ["repair"],
        "crew_size": 1,
        "shift_start": "08:00",
        "shift_end": "18:00",
    }
    created(client.post("/vehicles", json=body, headers=admin))


def visit(
    client: TestClient,
    settings: ServiceSettings,
    key_for: KeyMaker,
    *,
    area: str | None = None,
    place: dict[str, Any] | None = None,
) -> Visited:
    """TK-9 (in `area`, at `place`) scheduled, planned, published and visited on DAY."""
    scope = [area] if area else None
    boss = key_for("dispatcher", areas=scope)
    body = {**TICKET, **(place or {}), **({"area": area} if area else {})}
    ticket = created(client.post("/tickets", json=body, headers=boss))
    for step in ("answer", "schedule"):
        answer = client.post(f"/tickets/{ticket['id']}/{step}", headers=boss)
        assert answer.status_code == 200, answer.text
    publish(client, DAY, boss, area=area)
    technician = key_for("driver", TECHNICIAN)
    gps = {"at": ON_SITE.isoformat(), "lat": body["lat"], "lon": body["lon"]}
    report = {
        **gps,
        "work_done": "电机不转, 现场无法修复, 带回维修 / taken back to the workshop",
        "satisfaction": 4,
        "signer_name": TICKET["customer_name"],
        "signature_png": PNG,
    }
    with app_at(settings, ON_SITE) as day:
        created(write(day, f"/handover/{DAY}/routes/{TECHNICIAN}/depart", gps, technician))
        created(write(day, f"/handover/{DAY}/stops/ticket-TK-9/arrive", gps, technician))
        signed = created(
            write(day, f"/handover/{DAY}/stops/ticket-TK-9/service-report", report, technician)
        )
    return Visited(ticket["id"], signed["id"], boss, technician)


def publish(
    client: TestClient, date: dt.date, boss: dict[str, str], area: str | None = None
) -> dict[str, Any]:
    """`date` solved by the real planner, stored and published; the plan as published."""
    plan_id = store_solved(client, date, area=area)
    answer = client.post(f"/plans/{plan_id}/publish", headers={**boss, **if_match(1)})
    assert answer.status_code == 200, answer.text
    plan: dict[str, Any] = client.get(f"/plans/{plan_id}", headers=boss).json()
    return plan


def take_back_body(visited: Visited, **change: Any) -> dict[str, Any]:
    body = {**TAKE_BACK, "ticket_id": visited.ticket_id, "service_report_id": visited.report_id}
    return {**body, "at": ON_SITE.isoformat(), **change}


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)

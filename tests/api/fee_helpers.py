"""A technician's day of paid and free visits: T01 with its technician, tickets with their
warranty cards, DAY published; and the technician's records at the customer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from ledger_helpers import PNG
from plan_helpers import DAY, app_at
from test_ticket_visits import ON_SITE, VISIT_MORNING, fleet, handover, published, scheduled

from api.core.config import ServiceSettings

D = DAY.isoformat()
TECHNICIAN = "王师傅"
# sanitary ware: 36 months of warranty (settings default)
PAID = {"product_type": "sanitary", "purchase_date": "2023-01-10"}  # ended 2026-01-10
FREE = {"product_type": "sanitary", "purchase_date": "2025-06-01"}  # runs to 2028-06-01
# Repair labour ¥120 + one cartridge ¥60 + two seals at ¥8 = ¥196
PARTS = [{"code": "CARTRIDGE", "quantity": 1}, {"code": "SEAL", "quantity": 2}]
FEE = 196.0
AFTERNOON = ON_SITE.replace(hour=14, minute=0)
GPS = {"lat": 30.67, "lon": 104.08}


def fee_day(
    client: TestClient, admin: dict[str, str], boss: dict[str, str], tickets: dict[str, Any]
) -> dict[str, int]:
    """T01 and its technician on DAY; the tickets (external id -> change) scheduled, the
    first at 10:30 and the next at 14:00; DAY published. External id -> ticket id."""
    fleet(client, admin, ("T01",))
    staff = client.post(
        "/staff",
        json={"name": TECHNICIAN, "phone": "13900139001", "role": "technician"},
        headers=admin,
    )
    assert staff.status_code == 201, staff.text
    crew = {"date": D, "vehicle_code": "T01", "staff_id": staff.json()["id"], "role": "technician"}
    assert client.post("/crews", json=crew, headers=admin).status_code == 201
    ids = {}
    for n, (external_id, change) in enumerate(tickets.items()):
        at = (ON_SITE if n == 0 else AFTERNOON).isoformat()
        ticket = scheduled(client, boss, external_id=external_id, on_site_at=at, **change)
        ids[external_id] = ticket["id"]
    published(client, boss)
    return ids


def depart(day: TestClient, technician: dict[str, str]) -> None:
    handover(day, "/routes/T01/depart", {**GPS, "at": VISIT_MORNING.isoformat()}, technician)


@contextmanager
def at_tk1(settings: ServiceSettings, technician: dict[str, str]) -> Iterator[TestClient]:
    """The service at TK-1's agreed hour, T01 departed and arrived there."""
    with app_at(settings, ON_SITE) as day:
        depart(day, technician)
        arrive(day, technician, "TK-1", ON_SITE.isoformat())
        yield day


def arrive(day: TestClient, technician: dict[str, str], external_id: str, at: str) -> None:
    handover(day, f"/stops/ticket-{external_id}/arrive", {**GPS, "at": at}, technician)


def report(
    day: TestClient, technician: dict[str, str], external_id: str, at: str, **extra: Any
) -> dict[str, Any]:
    """The signed service report of the visit, the parts fitted named by their codes."""
    body = {
        **GPS,
        "at": at,
        "work_done": "更换阀芯和密封圈, 试水无渗漏",
        "parts_used": [
            {"name": "阀芯", "sku": "CARTRIDGE", "quantity": 1},
            {"name": "密封圈", "sku": "SEAL", "quantity": 2},
        ],
        "satisfaction": 5,
        "signer_name": "张三",
        "signature_png": PNG,
        **extra,
    }
    signed: dict[str, Any] = handover(
        day, f"/stops/ticket-{external_id}/service-report", body, technician
    )
    return signed


def fee(
    day: TestClient,
    ticket_id: int,
    what: str,
    body: dict[str, Any],
    headers: dict[str, str],
    key: str = "",
) -> Any:
    """POST /fees/DAY/tickets/{id}/{what} (approval or collection); the answer, unchecked."""
    headers = {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return day.post(f"/fees/{D}/tickets/{ticket_id}/{what}", json=body, headers=headers)


def collection(amount: float, method: str = "cash", parts: Any = None) -> dict[str, Any]:
    body = {"parts": PARTS if parts is None else parts, "amount_cny": amount, "method": method}
    return {**body, "at": ON_SITE.isoformat()}

"""A cash-heavy day with a bank, entered through the API and planned by a real job.

C01 (two people, cap ¥3,000) is the only crewed truck; its three customers pay ¥2,000 each,
so it must bank between them. Other trucks named are capped alike but get no crew.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from plan_helpers import DAY

# external id -> slot, how far north of the depot (degrees)
CASH = {"CD-1": ("morning", 0.010), "CD-2": ("morning", 0.015), "CD-3": ("afternoon", 0.020)}


def created(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code in (201, 202), answer.text
    return answer.json()


def crew(client: TestClient, admin: dict[str, str], vehicle: str, roles: list[str]) -> None:
    """Staff `vehicle` on DAY, one person per role."""
    for n, role in enumerate(roles):
        staff = created(client, admin, "/staff", {"name": f"{vehicle}员工{n}", "role": role})
        member = {"date": DAY.isoformat(), "vehicle_code": vehicle, "role": role}
        created(client, admin, "/crews", {**member, "staff_id": staff["id"]})


def cash_heavy_day(client: TestClient, admin: dict[str, str], trucks: tuple[str, ...]) -> None:
    created(client, admin, "/depots", {"code": "WH", "lat": 30.66, "lon": 104.06})
    for code in ("C01", *trucks):
        truck = {"code": code, "depot_code": "WH", "weight_kg": 1000, "volume_m3": 12}
        created(client, admin, "/vehicles", {**truck, "cash_cap_cny": 3000})
    crew(client, admin, "C01", ["driver", "porter"])
    bank = {"code": "ICBC-CH", "name": "工商银行成华支行", "lat": 30.665, "lon": 104.07}
    created(client, admin, "/banks", {**bank, "opens": "09:00", "closes": "17:00"})
    for n, (external_id, (slot, shift)) in enumerate(CASH.items()):
        item = {"sku": "S", "name": "沙发", "quantity": 1, "weight_kg": 40, "volume_m3": 1}
        order = {
            "external_id": external_id,
            "customer": f"客户{n}",
            "phone": "13800138000",
            "address": f"成都市成华区建设路{n + 1}号",
            "lat": 30.66 + shift,
            "lon": 104.07,
            "date": DAY.isoformat(),
            "slot": slot,
            "cash_cny": 2000,
            "items": [item],
        }
        created(client, admin, "/orders", order)


def planned_by_job(client: TestClient, admin: dict[str, str], seconds: float = 5) -> int:
    """Plan DAY with a real job; the stored plan's id."""
    job = created(client, admin, "/plans", {"date": DAY.isoformat(), "time_limit_s": seconds})
    deadline = time.monotonic() + 60
    while job["status"] not in {"succeeded", "failed", "cancelled"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.get(f"/plans/jobs/{job['id']}", headers=admin).json()
    assert job["status"] == "succeeded", job
    return int(job["plan_id"])

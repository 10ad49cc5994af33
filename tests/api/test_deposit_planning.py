"""End to end: a day whose cash needs a bank, planned by a real job, stored with its deposit.

Meaningful once the optimizer plans deposit stops (issue 29's optimizer part): before that
the planner leaves out the cash it cannot carry and this test fails.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from plan_helpers import DAY, app_at

from api.core.config import ServiceSettings

# C01 may carry ¥3,000; its three customers pay ¥2,000 each, so it must bank at midday.
CASH = {"CD-1": ("morning", 0.010), "CD-2": ("morning", 0.015), "CD-3": ("afternoon", 0.020)}


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


def _post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code in (201, 202), answer.text
    return answer.json()


def _cash_heavy_day(client: TestClient, admin: dict[str, str]) -> None:
    _post(client, admin, "/depots", {"code": "WH", "lat": 30.66, "lon": 104.06})
    truck = {"code": "C01", "depot_code": "WH", "weight_kg": 1000, "volume_m3": 12}
    _post(client, admin, "/vehicles", {**truck, "cash_cap_cny": 3000})
    for name, role in (("张伟", "driver"), ("刘洋", "porter")):
        staff = _post(client, admin, "/staff", {"name": name, "role": role})
        crew = {"date": DAY.isoformat(), "vehicle_code": "C01", "role": role}
        _post(client, admin, "/crews", {**crew, "staff_id": staff["id"]})
    bank = {"code": "ICBC-CH", "name": "工商银行成华支行", "lat": 30.665, "lon": 104.07}
    _post(client, admin, "/banks", {**bank, "opens": "09:00", "closes": "17:00"})
    for n, (external_id, (slot, shift)) in enumerate(CASH.items()):
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
            "items": [{"sku": "S", "name": "沙发", "quantity": 1, "weight_kg": 40, "volume_m3": 1}],
        }
        _post(client, admin, "/orders", order)


def test_a_day_whose_cash_needs_a_bank_gets_a_deposit_stop(
    client: TestClient, admin: dict[str, str]
) -> None:
    """All three customers are served: C01 banks within the hours, carrying ≤ ¥3,000."""
    _cash_heavy_day(client, admin)
    job = _post(client, admin, "/plans", {"date": DAY.isoformat(), "time_limit_s": 5})
    deadline = time.monotonic() + 60
    while job["status"] not in {"succeeded", "failed", "cancelled"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.get(f"/plans/jobs/{job['id']}", headers=admin).json()
    assert job["status"] == "succeeded", job
    plan = client.get(f"/plans/{job['plan_id']}", headers=admin).json()
    assert plan["unassigned"] == []
    [route] = plan["routes"]
    assert len(route["stops"]) == 3 and route["deposits"], route
    for deposit in route["deposits"]:
        assert deposit["bank_code"] == "ICBC-CH"
        # A crew early at the bank waits at its door: the counter work is within hours.
        assert deposit["start"] >= "09:00" and deposit["departure"] <= "17:00"
        assert 0 < deposit["amount_cny"] <= 3000
    assert all(stop["cash_cny"] <= 3000 for stop in route["stops"])

"""A chain of two areas to test the scope boundary on: Chengdu ("cd") and Shanghai ("sh").

Each has a depot, a truck with its crew on DAY and a few orders, all made through the API by
a chain-wide admin. The default area "main" stays empty, as in a chain that added its stores
after upgrading. Tests take keys scoped to one area with `key_for(role, areas=["cd"])`.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from plan_helpers import DAY

# area -> (name, city, depot code, depot lat, lon, truck code)
AREAS = {
    "cd": ("成都成华店", "成都", "WH-CD", 30.66, 104.06, "CD1"),
    "sh": ("上海浦东店", "上海", "WH-SH", 31.22, 121.54, "SH1"),
}
# area -> the external ids of its orders on DAY
ORDERS = {"cd": ["CD-1", "CD-2", "CD-3"], "sh": ["SH-1", "SH-2"]}


def _post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def seed_two_areas(client: TestClient, admin: dict[str, str], *, orders: bool = True) -> None:
    """Areas cd and sh, each with a depot, a truck crewed on DAY and (if asked) its ORDERS."""
    for code, (name, city, depot, lat, lon, truck) in AREAS.items():
        _post(client, admin, "/areas", {"code": code, "name": name, "city": city})
        depot_body = {"code": depot, "lat": lat, "lon": lon, "area_code": code}
        _post(client, admin, "/depots", depot_body)
        _post(
            client,
            admin,
            "/vehicles",
            {"code": truck, "depot_code": depot, "weight_kg": 1000, "volume_m3": 12},
        )
        for n, role in enumerate(("driver", "porter")):
            staff = {"name": f"{truck}-{role}", "phone": f"1390013900{n}", "role": role}
            person = _post(client, admin, "/staff", {**staff, "area_code": code})
            crew = {"date": DAY.isoformat(), "vehicle_code": truck, "role": role}
            _post(client, admin, "/crews", {**crew, "staff_id": person["id"]})
        if orders:
            for n, external_id in enumerate(ORDERS[code]):
                _post(client, admin, "/orders", area_order(code, external_id, n))


def area_order(area: str, external_id: str, n: int, **changes: Any) -> dict[str, Any]:
    """An order near the area's depot, naming no area: the nearest depot decides."""
    _, city, _, lat, lon, _ = AREAS[area]
    body = {
        "external_id": external_id,
        "customer": f"{city}客户{n}",
        "phone": f"1380013800{n}",
        "address": f"{city}建设路{n + 1}号",
        "lat": lat + 0.01 * (n + 1),
        "lon": lon + 0.01,
        "date": DAY.isoformat(),
        "slot": "morning" if n % 2 == 0 else "afternoon",
        "cash_cny": 500 * n,
        "items": [{"sku": "SOFA", "name": "沙发", "quantity": 1, "weight_kg": 40, "volume_m3": 2}],
    }
    return body | changes

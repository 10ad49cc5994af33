"""The demo's chain part: the chain fixture loads into the service through the API."""

from __future__ import annotations

import json
from collections import Counter

from plan_helpers import DAY, app_at

from api.core.config import ServiceSettings
from api.demo_chain import CHAIN, load_chain
from optimizer.dayfile import read_day


def test_the_chain_fixture_loads_through_the_api(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """Every store becomes an area with its depots, overrides, fleet and orders; each order
    goes to the area of its nearest depot, which is its own store's for all but a few."""
    chain = json.loads(CHAIN.read_text(encoding="utf-8"))
    said: list[str] = []
    with app_at(settings) as client:
        client.headers.update(admin)
        load_chain(client, chain, DAY, said.append)
        areas = {area["code"]: area for area in client.get("/areas").json()}
        orders = client.get("/orders", params={"date": DAY.isoformat()}).json()
        vehicles = client.get("/vehicles").json()
    days = {area["code"]: read_day(CHAIN.with_name(area["day"])) for area in chain["areas"]}
    for code, day in days.items():
        assert areas[code]["depots"] == sorted(depot["id"] for depot in day["depots"])
    assert areas["sh-pudong"]["morning_start"] == "09:00:00"
    assert areas["sh-minhang"]["cash_cap_cny"] == 30_000
    assert areas["cd-chenghua"]["overrides"] == []
    assert len(vehicles) == sum(len(day["vehicles"]) for day in days.values())
    placed = Counter(order["area_code"] for order in orders)
    assert sum(placed.values()) == sum(len(day["visits"]) for day in days.values())
    home = {visit["id"]: code for code, day in days.items() for visit in day["visits"]}
    strays = [order for order in orders if order["area_code"] != home[order["external_id"]]]
    assert len(strays) <= 2
    # Crews never cross cities: no Chengdu order goes to Shanghai or back.
    assert all(order["area_code"].startswith("sh-") for order in strays)
    assert any(line.startswith(f"booked {len(orders)} orders") for line in said)

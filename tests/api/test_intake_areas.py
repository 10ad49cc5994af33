"""Intake in a chain: orders, slot offers, tickets, crews and notices each in their own area."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from area_helpers import area_order, seed_two_areas
from fastapi.testclient import TestClient
from intake_helpers import publish_area
from plan_helpers import DAY, NOW, app_at

from api.core.config import ServiceSettings

Headers = dict[str, str]
BEIJING = (39.9, 116.4)  # no depot within reach of it


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def chain(client: TestClient, admin: Headers) -> Headers:
    """Chengdu and Shanghai seeded; a chain-wide order system key."""
    seed_two_areas(client, admin)
    return admin


def _offers(client: TestClient, headers: Headers, area: str, **query: Any) -> list[Any]:
    lat, lon = {"cd": (30.67, 104.07), "sh": (31.23, 121.55)}[area]
    params = {"lat": lat, "lon": lon, "days": 2, "area": area, **query}
    answer = client.get("/slots", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_an_order_goes_to_the_area_of_the_nearest_depot(
    client: TestClient, chain: Headers, key_for: KeyMaker
) -> None:
    """An order naming no area is placed in the area whose depot is nearest its address."""
    booker = key_for("order_system")
    shown = {
        external_id: client.get(f"/orders/{external_id}", headers=booker).json()["area_code"]
        for external_id in ("CD-1", "CD-3", "SH-1", "SH-2")
    }
    assert shown == {"CD-1": "cd", "CD-3": "cd", "SH-1": "sh", "SH-2": "sh"}
    listed = client.get("/orders", params={"area": "sh"}, headers=booker).json()
    assert [order["external_id"] for order in listed] == ["SH-1", "SH-2"]


@pytest.mark.parametrize(
    "change",
    [{"lat": BEIJING[0], "lon": BEIJING[1]}, {"area": "bj"}],
    ids=["out of reach", "unknown area"],
)
def test_an_order_no_area_serves_is_refused_naming_area(
    client: TestClient, chain: Headers, key_for: KeyMaker, change: dict[str, Any]
) -> None:
    """An address no depot reaches, or an area that does not exist, is a 422 naming `area`."""
    body = area_order("cd", "FAR-1", 0) | change
    refused = client.post("/orders", json=body, headers=key_for("order_system"))
    assert refused.status_code == 422 and refused.json()["field"] == "area", refused.text


def test_a_scoped_key_books_only_into_its_areas(
    client: TestClient, chain: Headers, key_for: KeyMaker
) -> None:
    """A key of one area books into it unnamed, and gets 403 naming or reaching another."""
    cd_key = key_for("order_system", areas=["cd"])
    own = client.post("/orders", json=area_order("cd", "CD-7", 0), headers=cd_key)
    assert own.status_code == 201 and own.json()["area_code"] == "cd"
    named = area_order("sh", "SH-7", 0) | {"area": "sh"}
    assert client.post("/orders", json=named, headers=cd_key).status_code == 403
    two = key_for("order_system", areas=["cd", "sh"])
    served = client.post("/orders", json=area_order("sh", "SH-8", 0), headers=two)
    assert served.json()["area_code"] == "sh"
    assert (
        client.post("/orders", json=area_order("sh", "SH-8", 0), headers=cd_key).status_code == 403
    )


def test_a_lead_time_override_binds_in_its_area_only(
    client: TestClient, chain: Headers, key_for: KeyMaker
) -> None:
    """Chengdu books four days ahead: its orders, reschedules and offers; Shanghai keeps three."""
    assert (
        client.patch("/areas/cd", json={"booking_lead_days": 4}, headers=chain).status_code == 200
    )
    booker = key_for("order_system")
    refused = client.post("/orders", json=area_order("cd", "CD-8", 0), headers=booker)
    assert refused.status_code == 422 and refused.json()["rule"] == "booking_lead_days"
    assert (
        client.post("/orders", json=area_order("sh", "SH-8", 0), headers=booker).status_code == 201
    )
    move = {"date": DAY.isoformat(), "slot": "afternoon"}
    moved = client.post("/orders/CD-1/reschedule", json=move, headers=booker)
    assert moved.status_code == 422 and moved.json()["rule"] == "booking_lead_days"
    assert client.post("/orders/SH-1/reschedule", json=move, headers=booker).status_code == 200
    assert _offers(client, booker, "cd")[0]["date"] == (DAY + dt.timedelta(days=1)).isoformat()
    assert _offers(client, booker, "sh")[0]["date"] == DAY.isoformat()


def test_slot_offers_count_only_the_areas_own_crews_hours_and_orders(
    client: TestClient, chain: Headers, key_for: KeyMaker
) -> None:
    """An area's offer: its truck, its slot hours, and only its own orders taken off."""
    body = {"morning_start": "10:00"}
    assert client.patch("/areas/cd", json=body, headers=chain).status_code == 200
    booker = key_for("order_system")
    cd = _offers(client, booker, "cd")[0]["remaining"]
    sh = _offers(client, booker, "sh")[0]["remaining"]
    # A 1,000 kg truck each; Chengdu's three sofas weigh 120 kg, Shanghai's two 80 kg. Each
    # morning visit costs 20 minutes of work and 20 of driving: Chengdu has two, Shanghai one.
    assert (cd["weight_kg"], sh["weight_kg"]) == (880, 920)
    assert (cd["minutes"], sh["minutes"]) == (120 - 80, 240 - 40)


def test_slot_offers_without_an_area_come_from_the_serving_one(
    client: TestClient, chain: Headers, key_for: KeyMaker
) -> None:
    """A chain-wide key naming no area is answered by the area serving the address."""
    answer = client.get("/slots", params={"lat": 31.23, "lon": 121.55, "days": 1}, headers=chain)
    assert answer.json()[0]["remaining"]["weight_kg"] == 920
    far = {"lat": BEIJING[0], "lon": BEIJING[1]}
    refused = client.get("/slots", params=far, headers=key_for("order_system"))
    assert refused.status_code == 422 and refused.json()["field"] == "area"


def test_dates_follow_the_areas_wall_clock(settings: ServiceSettings, admin: Headers) -> None:
    """At 01:00 in Shanghai it is still yesterday in Kolkata, so Kolkata's earliest date is a
    day earlier: booking follows each area's own clock."""
    with app_at(settings, NOW) as client:
        seed_two_areas(client, admin, orders=False)
        zone = {"timezone": "Asia/Kolkata"}
        assert client.patch("/areas/cd", json=zone, headers=admin).status_code == 200
    early = dt.datetime(2026, 11, 24, 1, 0, tzinfo=NOW.tzinfo)
    day = (DAY - dt.timedelta(days=1)).isoformat()
    with app_at(settings, early) as client:
        cd = client.post("/orders", json=area_order("cd", "CD-1", 0, date=day), headers=admin)
        sh = client.post("/orders", json=area_order("sh", "SH-1", 0, date=day), headers=admin)
        assert cd.status_code == 201, cd.text
        assert sh.status_code == 422 and sh.json()["rule"] == "booking_lead_days"
        assert _offers(client, admin, "cd")[0]["date"] == day


def test_a_ticket_takes_the_area_of_its_order_or_its_address(
    client: TestClient, chain: Headers, key_for: KeyMaker
) -> None:
    """A ticket is of its order's area, else of the area serving its address; only that
    area's technicians are assigned to it."""
    opener = key_for("order_system")
    body = {"external_id": "TK-1", "category": "repair", "order_external_id": "SH-1"}
    assert client.post("/tickets", json=body, headers=opener).json()["area_code"] == "sh"
    place = {"address": "成都建设路", "lat": 30.67, "lon": 104.07}
    body = {"external_id": "TK-2", "category": "repair", **place}
    assert client.post("/tickets", json=body, headers=opener).json()["area_code"] == "cd"
    far = {**body, "external_id": "TK-3", "lat": BEIJING[0], "lon": BEIJING[1]}
    refused = client.post("/tickets", json=far, headers=opener)
    assert refused.status_code == 422 and refused.json()["field"] == "area"


def test_a_ticket_is_assigned_only_to_its_areas_technician(
    client: TestClient, chain: Headers
) -> None:
    """Assigning Chengdu's ticket to Shanghai's vehicle is a 422 naming vehicle_code."""
    details = {
        "customer_name": "张三",
        "customer_phone": "13800000000",
        "equipment": "沙发",
        "service_type": "repair",
        "on_site_at": "2026-11-26T10:00:00+08:00",
    }
    body = {"external_id": "TK-1", "category": "repair", "order_external_id": "CD-1", **details}
    ticket = client.post("/tickets", json=body, headers=chain).json()["id"]
    assert client.post(f"/tickets/{ticket}/answer", headers=chain).status_code == 200
    wrong = client.post(f"/tickets/{ticket}/assign", json={"vehicle_code": "SH1"}, headers=chain)
    assert wrong.status_code == 422 and wrong.json()["field"] == "vehicle_code"
    right = client.post(f"/tickets/{ticket}/assign", json={"vehicle_code": "CD1"}, headers=chain)
    assert right.status_code == 200


def test_a_crew_never_crosses_areas(client: TestClient, chain: Headers, key_for: KeyMaker) -> None:
    """Shanghai's porter on Chengdu's truck is a 422 naming staff_id; moving a truck to
    another area's depot needs both areas in scope."""
    porter = {"name": "沪搬运", "role": "porter", "area_code": "sh"}
    staff = client.post("/staff", json=porter, headers=chain).json()["id"]
    crew = {"date": DAY.isoformat(), "vehicle_code": "CD1", "staff_id": staff, "role": "porter"}
    refused = client.post("/crews", json=crew, headers=chain)
    assert refused.status_code == 422 and refused.json()["field"] == "staff_id"
    move = {"depot_code": "WH-CD"}
    sh_key = key_for("dispatcher", areas=["sh"])
    assert client.patch("/vehicles/SH1", json=move, headers=sh_key).status_code == 403
    both = key_for("dispatcher", areas=["cd", "sh"])
    moved = client.patch("/vehicles/SH1", json=move, headers=both)
    assert moved.status_code == 200 and moved.json()["area_code"] == "cd"


def test_day_before_notices_use_the_areas_slot_hours(client: TestClient, chain: Headers) -> None:
    """Chengdu's later mornings show in its customers' notices, not in Shanghai's."""
    assert (
        client.patch("/areas/cd", json={"morning_start": "10:00"}, headers=chain).status_code == 200
    )
    for area in ("cd", "sh"):
        publish_area(client, area)
        path = f"/notifications/day-before/{DAY.isoformat()}?area={area}"
        assert client.post(path, headers=chain).json()["created"] == {"cd": 3, "sh": 2}[area]
    texts = {
        m["external_id"]: m["text"] for m in client.get("/notifications", headers=chain).json()
    }
    assert "10:00–12:00" in texts["CD-1"] and "08:00–12:00" in texts["SH-1"]


def test_a_generating_post_names_the_area_in_a_chain(client: TestClient, chain: Headers) -> None:
    """With several areas, a chain-wide key must name the area it generates notices for."""
    refused = client.post(f"/notifications/day-before/{DAY.isoformat()}", headers=chain)
    assert refused.status_code == 422 and refused.json()["field"] == "area"


def test_an_unknown_area_in_a_query_is_a_422_naming_area(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """?area=nowhere is the caller's error on `area`, as an order naming it is."""
    with app_at(settings) as client:
        seed_two_areas(client, admin, orders=False)
        for path in ("/plans", "/orders", "/depots", "/plans/jobs"):
            query = {"area": "nowhere", "date": DAY.isoformat()}
            answer = client.get(path, params=query, headers=admin)
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["field"] == "area"

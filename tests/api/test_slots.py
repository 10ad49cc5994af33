"""Bookable slots: which date and slot can still take an order, and why not when not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.main import create_app

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EARLIEST = "2026-11-27"  # NOW's date plus the three days of booking lead time
HOME = {"lat": 30.65, "lon": 104.07}  # about 20 km from the depot, an hour's drive


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    clock = Clock(settings.timezone, fixed=NOW)
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def one_truck(client: TestClient, admin: dict[str, str]) -> None:
    """One 3 t truck working 07:30-18:30 with the gas skill; a piano skill nobody has."""
    for skill in ("gas_appliance", "piano_tuning"):
        assert client.post("/skills", json={"name": skill}, headers=admin).status_code == 201
    depot = {"code": "WH", "lat": 30.82, "lon": 104.16}
    assert client.post("/depots", json=depot, headers=admin).status_code == 201
    truck = {
        "code": "C01",
        "depot_code": "WH",
        "weight_kg": 3000,
        "volume_m3": 16,
        "skills": ["gas_appliance"],
    }
    assert client.post("/vehicles", json=truck, headers=admin).status_code == 201


def book(client: TestClient, headers: dict[str, str], external_id: str, **changes: Any) -> None:
    order = {
        "external_id": external_id,
        "customer": "李娜",
        "phone": "13800138000",
        "address": "成都市武侯区",
        **HOME,
        "date": EARLIEST,
        "slot": "afternoon",
        "items": [],
        **changes,
    }
    assert client.post("/orders", json=order, headers=headers).status_code == 201


def slots(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/slots", params={**HOME, "days": 2, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    offers: list[dict[str, Any]] = answer.json()
    return offers


def offer(offers: list[dict[str, Any]], date: str, slot: str) -> dict[str, Any]:
    return next(o for o in offers if (o["date"], o["slot"]) == (date, slot))


@pytest.mark.usefixtures("one_truck")
def test_dates_start_at_the_earliest_bookable_day(
    client: TestClient, admin: dict[str, str]
) -> None:
    """`days` dates from today + lead days, each with a morning and an afternoon, all open."""
    offers = slots(client, admin, days=3)
    assert [(o["date"], o["slot"]) for o in offers] == [
        ("2026-11-27", "morning"),
        ("2026-11-27", "afternoon"),
        ("2026-11-28", "morning"),
        ("2026-11-28", "afternoon"),
        ("2026-11-29", "morning"),
        ("2026-11-29", "afternoon"),
    ]
    assert all(o["available"] and o["reason"] is None for o in offers)
    assert offers[0]["remaining"] == {
        "minutes": 240,  # 08:00-12:00 inside the 07:30-18:30 shift
        "weight_kg": 3000.0,
        "volume_m3": 16.0,
        "cash_cny": 50000.0,  # the default cash cap
    }
    assert offers[1]["remaining"]["minutes"] == 300  # 13:00-18:00


@pytest.mark.usefixtures("one_truck")
def test_full_afternoon_is_refused_while_the_morning_is_offered(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Two two-hour jobs fill the truck's afternoon; its morning and the next day stay open."""
    book(client, admin, "SO-1", service_minutes=120)
    book(client, admin, "SO-2", service_minutes=120)
    offers = slots(client, admin)
    afternoon = offer(offers, EARLIEST, "afternoon")
    assert not afternoon["available"]
    assert (
        afternoon["reason"] == "the afternoon slot is full: 20 minutes of crew time left, 40 needed"
    )
    assert afternoon["remaining"]["minutes"] == 20  # 300 - 2 x (120 + 20 travel)
    assert offer(offers, EARLIEST, "morning")["available"]
    assert offer(offers, "2026-11-28", "afternoon")["available"]


@pytest.mark.usefixtures("one_truck")
def test_a_cancelled_order_gives_its_time_back(client: TestClient, admin: dict[str, str]) -> None:
    """Only booked and planned orders hold capacity."""
    book(client, admin, "SO-1", service_minutes=120)
    book(client, admin, "SO-2", service_minutes=120)
    client.post("/orders/SO-2/cancel", json={"reason": "customer moved"}, headers=admin)
    assert offer(slots(client, admin), EARLIEST, "afternoon")["available"]


@pytest.mark.usefixtures("one_truck")
def test_the_morning_load_counts_against_the_afternoon(
    client: TestClient, admin: dict[str, str]
) -> None:
    """A truck loads once a day, so 2.5 t booked for the morning leaves 0.5 t for the day."""
    wardrobe = {"sku": "W", "name": "衣柜", "quantity": 1, "weight_kg": 2500, "volume_m3": 4}
    book(client, admin, "SO-1", slot="morning", items=[wardrobe])
    offers = slots(client, admin, weight_kg=1000)
    for slot in ("morning", "afternoon"):
        refused = offer(offers, EARLIEST, slot)
        assert not refused["available"]
        assert refused["reason"] == f"the {slot} slot is full: 500 kg of load left, 1000 needed"
    assert offer(offers, "2026-11-28", "afternoon")["available"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {"weight_kg": 3500},
            "3500 kg is more than any suitable crew's vehicle carries",
        ),  # heavier than the only truck
        (
            {"volume_m3": 20},
            "20 m³ is more than any suitable crew's vehicle holds",
        ),  # bulkier than the only truck
        (
            {"cash_cny": 60000},
            "60000 CNY is more cash than any suitable crew may carry",
        ),  # above the cash cap
        (
            {"skills": "gas_appliance,piano_tuning"},
            "no working crew for delivery visits has the skills gas_appliance, piano_tuning",
        ),  # a declared skill nobody has
        (
            {"service_type": "install"},
            "no working crew does install visits",
        ),  # trucks deliver; installs need a technician
        (
            {"lat": 39.90, "lon": 116.40},
            "no suitable crew can reach the address in the morning slot "
            "and be back at its depot within its shift",
        ),  # Beijing: far beyond a day's drive
    ],
)
@pytest.mark.usefixtures("one_truck")
def test_an_order_no_crew_can_serve_gets_no_slot(
    client: TestClient, admin: dict[str, str], params: dict[str, Any], reason: str
) -> None:
    """When no working crew could take the order at all, no slot is offered, with the reason."""
    offers = slots(client, admin, **params)
    assert not any(o["available"] for o in offers)
    assert offers[0]["reason"] == reason
    assert offers[0]["remaining"]["minutes"] == 0


@pytest.mark.usefixtures("one_truck")
def test_a_skill_the_truck_has_is_offered(client: TestClient, admin: dict[str, str]) -> None:
    """The gas skill is on the truck, so gas deliveries are offered."""
    assert all(o["available"] for o in slots(client, admin, skills="gas_appliance"))


@pytest.mark.usefixtures("one_truck")
def test_no_working_crew_means_no_slot(client: TestClient, admin: dict[str, str]) -> None:
    """With the only truck out of service there is nobody to send."""
    client.patch("/vehicles/C01", json={"active": False}, headers=admin)
    offers = slots(client, admin)
    assert not any(o["available"] for o in offers)
    assert offers[0]["reason"] == f"no crew works on {EARLIEST}"


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"lat": 95}, ["query", "lat"]),  # latitude out of range
        ({"lon": -181}, ["query", "lon"]),  # longitude out of range
        ({"weight_kg": -1}, ["query", "weight_kg"]),  # negative weight
        ({"days": 0}, ["query", "days"]),  # at least one date
        ({"days": 61}, ["query", "days"]),  # at most sixty dates
        ({"service_type": "teleport"}, ["query", "service_type"]),  # not a service
    ],
)
def test_bad_query_is_422_naming_the_parameter(
    client: TestClient, admin: dict[str, str], params: dict[str, Any], loc: list[str]
) -> None:
    """Invalid parameters are refused with their path."""
    answer = client.get("/slots", params={**HOME, **params}, headers=admin)
    assert answer.status_code == 422
    assert loc in [error["loc"] for error in answer.json()["detail"]]


def test_missing_coordinates_are_422(client: TestClient, admin: dict[str, str]) -> None:
    """The location is required."""
    answer = client.get("/slots", params={"lat": 30.6}, headers=admin)
    assert answer.status_code == 422
    assert ["query", "lon"] in [error["loc"] for error in answer.json()["detail"]]


def test_undeclared_skill_is_422(client: TestClient, admin: dict[str, str]) -> None:
    """A skill that was never declared is a mistake in the question, named like in /orders."""
    answer = client.get("/slots", params={**HOME, "skills": "nope"}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "skills"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("order_system", 200),  # asks before booking
        ("dispatcher", 200),  # books by phone
        ("warehouse", 403),  # has no say in booking
        ("driver", 403),  # neither has a driver
        (None, 401),  # no key at all
    ],
)
def test_who_may_ask_for_slots(
    client: TestClient, key_for: KeyMaker, role: str | None, status: int
) -> None:
    """Only those who book may ask."""
    headers = {} if role is None else key_for(role, "C01" if role == "driver" else None)
    assert client.get("/slots", params=HOME, headers=headers).status_code == status


@pytest.mark.usefixtures("one_truck")
def test_the_queries_do_not_grow_with_dates_or_bookings(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Sixty dates and forty bookings take as many database queries as two dates and none."""

    def queries(days: int) -> int:
        statements: list[str] = []
        engine = client.app.state.engine  # type: ignore[attr-defined]

        def listen(*args: Any) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", listen)
        slots(client, admin, days=days)
        event.remove(engine, "before_cursor_execute", listen)
        return len(statements)

    few = queries(2)
    start = dt.date.fromisoformat(EARLIEST)
    for n in range(40):
        book(client, admin, f"SO-{n}", date=(start + dt.timedelta(days=n)).isoformat())
    assert queries(60) == few

"""Orders from the order system: idempotent intake, the lead-time rule, cancel, reschedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.main import create_app
from api.orders import service
from api.orders.models import Order, OrderItem, OrderStatus

# Lead-time rules are about "today", so the service runs as of a fixed morning in the store.
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EARLIEST = "2026-11-27"  # NOW's date plus the three days of booking lead time


def app_at(settings: ServiceSettings, moment: dt.datetime) -> TestClient:
    return TestClient(create_app(settings, clock=Clock(settings.timezone, fixed=moment)))


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    with app_at(settings, NOW) as test_client:
        yield test_client


def order_payload(external_id: str = "SO-1", **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "external_id": external_id,
        "customer": "李娜",
        "phone": "13800138000",
        "address": "成都市武侯区天府大道北段100号",
        "lat": 30.65,
        "lon": 104.07,
        "date": EARLIEST,
        "slot": "morning",
        "items": [
            {"sku": "SOFA-3", "name": "三人沙发", "quantity": 1, "weight_kg": 85, "volume_m3": 2.4},
            {"sku": "CHAIR", "name": "餐椅", "quantity": 4, "weight_kg": 6.5, "volume_m3": 0.3},
        ],
    }
    payload.update(changes)
    return payload


def set_status(client: TestClient, external_id: str, status: OrderStatus) -> None:
    """Stands in for the planning and delivery steps, which have no endpoint here."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        order = session.exec(select(Order).where(Order.external_id == external_id)).one()
        order.status = status
        session.add(order)
        session.commit()


def test_create_stores_items_and_totals(client: TestClient, admin: dict[str, str]) -> None:
    """A new order is 201 with its items; weight and volume are the items' totals."""
    created = client.post("/orders", json=order_payload(), headers=admin)
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["weight_kg"], body["volume_m3"]) == ("booked", 111.0, 3.6)
    assert [item["sku"] for item in body["items"]] == ["SOFA-3", "CHAIR"]
    assert client.get("/orders/SO-1", headers=admin).json() == body


def test_identical_retry_returns_the_stored_order(
    client: TestClient, admin: dict[str, str]
) -> None:
    """The same payload again (keys in another order) is 200 with the same order, stored once."""
    first = client.post("/orders", json=order_payload(), headers=admin)
    reordered = dict(reversed(list(order_payload().items())))
    again = client.post("/orders", json=reordered, headers=admin)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(client.get("/orders", headers=admin).json()) == 1
    assert len(client.get("/orders/SO-1/history", headers=admin).json()) == 1
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert len(session.exec(select(OrderItem)).all()) == 2


def test_same_external_id_with_another_payload_is_409(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Reusing an external_id for a different order is a conflict naming external_id."""
    client.post("/orders", json=order_payload(), headers=admin)
    clash = client.post("/orders", json=order_payload(customer="王芳"), headers=admin)
    assert clash.status_code == 409
    assert clash.json()["field"] == "external_id"
    assert client.get("/orders/SO-1", headers=admin).json()["customer"] == "李娜"


@pytest.mark.parametrize(
    ("date", "status"),
    [
        ("2026-11-24", 422),  # today
        ("2026-11-26", 422),  # two days ahead: one day short of the lead time
        ("2026-11-27", 201),  # three days ahead: the earliest bookable date
        ("2026-12-20", 201),  # well ahead
    ],
)
def test_booking_lead_time(
    client: TestClient, admin: dict[str, str], date: str, status: int
) -> None:
    """Dates closer than the lead time are refused naming date and the earliest date."""
    answer = client.post("/orders", json=order_payload(date=date), headers=admin)
    assert answer.status_code == status
    if status == 422:
        assert answer.json()["field"] == "date"
        assert answer.json()["detail"] == (
            "deliveries are booked at least 3 days ahead: the earliest date is 2026-11-27"
        )


def test_today_is_the_stores_date_not_utcs(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """At 20:00 UTC on the 23rd it is already the 24th in Chengdu, so the 27th is bookable."""
    late_utc = dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)
    with app_at(settings, late_utc) as client:
        assert client.post("/orders", json=order_payload(), headers=admin).status_code == 201


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"customer": None}, ["body", "customer"]),  # a required field left out
        (
            {"items": [{"sku": "X", "name": "x", "quantity": -1, "weight_kg": 1, "volume_m3": 1}]},
            ["body", "items", 0, "quantity"],
        ),  # a negative quantity, reported at the item's path
        ({"lat": 95}, ["body", "lat"]),  # latitude out of range
        ({"slot": "evening"}, ["body", "slot"]),  # not a slot
    ],
)
def test_malformed_body_is_422_with_the_field_path(
    client: TestClient, admin: dict[str, str], changes: dict[str, Any], loc: list[Any]
) -> None:
    """Schema errors name the offending field's path; nothing is stored."""
    payload = {k: v for k, v in order_payload(**changes).items() if v is not None}
    answer = client.post("/orders", json=payload, headers=admin)
    assert answer.status_code == 422
    assert loc in [error["loc"] for error in answer.json()["detail"]]
    assert client.get("/orders", headers=admin).json() == []


def test_unknown_skill_is_422(client: TestClient, admin: dict[str, str]) -> None:
    """An order needing an undeclared skill is refused naming skills."""
    answer = client.post("/orders", json=order_payload(skills=["piano"]), headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "skills"


def test_known_skills_are_kept(client: TestClient, admin: dict[str, str]) -> None:
    """Declared skills are stored, once each."""
    client.post("/skills", json={"name": "gas_appliance"}, headers=admin)
    payload = order_payload(skills=["gas_appliance", "gas_appliance"])
    answer = client.post("/orders", json=payload, headers=admin)
    assert answer.status_code == 201
    assert answer.json()["skills"] == ["gas_appliance"]


def test_missing_coordinates_without_geocoder_is_422(
    client: TestClient, admin: dict[str, str]
) -> None:
    """With no geocoder configured the order system must send coordinates."""
    answer = client.post("/orders", json=order_payload(lat=None, lon=None), headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "lat"
    assert "no geocoder is configured" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("place", "status"),
    [
        (SimpleNamespace(latitude=30.66, longitude=104.06), 201),  # the address is found
        (None, 422),  # the geocoder has no match
    ],
)
def test_geocoder_fills_missing_coordinates(
    settings: ServiceSettings,
    admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    place: SimpleNamespace | None,
    status: int,
) -> None:
    """A configured geocoder places an address sent without coordinates."""
    asked: list[tuple[str, str]] = []

    class FakeGeocoder:
        def __init__(self, user_agent: str) -> None:
            self.user_agent = user_agent

        def geocode(self, address: str) -> SimpleNamespace | None:
            asked.append((self.user_agent, address))
            return place

    monkeypatch.setattr("geopy.geocoders.get_geocoder_for_service", lambda name: FakeGeocoder)
    configured = settings.model_copy(update={"geocoder": "nominatim"})
    with app_at(configured, NOW) as client:
        answer = client.post("/orders", json=order_payload(lat=None, lon=None), headers=admin)
    assert answer.status_code == status
    assert asked == [("dispatch", order_payload()["address"])]
    if status == 201:
        assert (answer.json()["lat"], answer.json()["lon"]) == (30.66, 104.06)
    else:
        assert answer.json()["field"] == "lat"


def test_a_failed_write_stores_nothing(
    client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the history event cannot be written, neither the order nor its items are kept."""

    def broken(**_: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "OrderEvent", broken)
    with pytest.raises(RuntimeError):
        client.post("/orders", json=order_payload(), headers=admin)
    monkeypatch.undo()
    assert client.get("/orders/SO-1", headers=admin).status_code == 404
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.exec(select(OrderItem)).all() == []


def test_list_filters_by_date_and_status(client: TestClient, admin: dict[str, str]) -> None:
    """Orders are listed by date and by status."""
    client.post("/orders", json=order_payload("SO-1"), headers=admin)
    client.post("/orders", json=order_payload("SO-2", date="2026-11-28"), headers=admin)
    client.post("/orders", json=order_payload("SO-3"), headers=admin)
    client.post("/orders/SO-3/cancel", json={"reason": "customer moved"}, headers=admin)

    def ids(**params: str) -> list[str]:
        listed = client.get("/orders", params=params, headers=admin).json()
        return [order["external_id"] for order in listed]

    assert ids(date=EARLIEST) == ["SO-1", "SO-3"]
    assert ids(date=EARLIEST, status="booked") == ["SO-1"]
    assert ids(status="cancelled") == ["SO-3"]
    assert client.get("/orders", params={"status": "lost"}, headers=admin).status_code == 422


def test_cancel_records_the_reason_and_is_idempotent(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Cancelling sets the status and writes the reason; a second cancel changes nothing."""
    client.post("/orders", json=order_payload(), headers=admin)
    first = client.post("/orders/SO-1/cancel", json={"reason": "customer moved"}, headers=admin)
    again = client.post("/orders/SO-1/cancel", json={"reason": "retry"}, headers=admin)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "cancelled"
    history = client.get("/orders/SO-1/history", headers=admin).json()
    assert [event["kind"] for event in history] == ["created", "cancelled"]
    assert history[1]["detail"] == {"reason": "customer moved", "previous_status": "booked"}
    assert history[1]["by"] == "bootstrap admin"


def test_cancel_needs_a_reason(client: TestClient, admin: dict[str, str]) -> None:
    """An empty reason is a schema error on the reason field."""
    client.post("/orders", json=order_payload(), headers=admin)
    answer = client.post("/orders/SO-1/cancel", json={"reason": ""}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]


def test_cancelling_a_delivered_order_is_409(client: TestClient, admin: dict[str, str]) -> None:
    """A delivered order stays delivered."""
    client.post("/orders", json=order_payload(), headers=admin)
    set_status(client, "SO-1", OrderStatus.DELIVERED)
    answer = client.post("/orders/SO-1/cancel", json={"reason": "too late"}, headers=admin)
    assert answer.status_code == 409
    assert client.get("/orders/SO-1", headers=admin).json()["status"] == "delivered"


def test_reschedule_moves_the_order_and_records_both_dates(
    client: TestClient, admin: dict[str, str]
) -> None:
    """A planned order moved to another date and slot is booked again, with history."""
    client.post("/orders", json=order_payload(), headers=admin)
    set_status(client, "SO-1", OrderStatus.PLANNED)
    move = {"date": "2026-11-30", "slot": "afternoon", "reason": "customer away"}
    answer = client.post("/orders/SO-1/reschedule", json=move, headers=admin)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["date"], body["slot"], body["status"]) == ("2026-11-30", "afternoon", "booked")
    event = client.get("/orders/SO-1/history", headers=admin).json()[-1]
    assert event["kind"] == "rescheduled"
    assert event["detail"] == {
        "from": {"date": EARLIEST, "slot": "morning"},
        "to": {"date": "2026-11-30", "slot": "afternoon"},
        "reason": "customer away",
        "previous_status": "planned",
    }
    again = client.post("/orders/SO-1/reschedule", json=move, headers=admin)
    assert again.status_code == 200
    assert len(client.get("/orders/SO-1/history", headers=admin).json()) == 2


def test_reschedule_keeps_the_lead_time(client: TestClient, admin: dict[str, str]) -> None:
    """Moving an order closer than the lead time is refused naming date; the order stays."""
    client.post("/orders", json=order_payload(date="2026-12-01"), headers=admin)
    move = {"date": "2026-11-25", "slot": "morning"}
    answer = client.post("/orders/SO-1/reschedule", json=move, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["field"] == "date"
    assert client.get("/orders/SO-1", headers=admin).json()["date"] == "2026-12-01"


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.CANCELLED,  # a cancelled order must be booked anew
        OrderStatus.DELIVERED,  # a delivered order is done
    ],
)
def test_rescheduling_a_finished_order_is_409(
    client: TestClient, admin: dict[str, str], status: OrderStatus
) -> None:
    """Cancelled and delivered orders cannot be moved."""
    client.post("/orders", json=order_payload(), headers=admin)
    set_status(client, "SO-1", status)
    move = {"date": "2026-11-30", "slot": "morning"}
    assert client.post("/orders/SO-1/reschedule", json=move, headers=admin).status_code == 409


@pytest.mark.parametrize(
    "path",
    [
        "/orders/NOPE",  # the order
        "/orders/NOPE/history",  # its history
    ],
)
def test_unknown_order_is_404(client: TestClient, admin: dict[str, str], path: str) -> None:
    """An external id never received is not found."""
    assert client.get(path, headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        ("order_system", "POST", "/orders", 201),  # the order system books
        ("dispatcher", "POST", "/orders", 201),  # so may a dispatcher, by phone
        ("warehouse", "POST", "/orders", 403),  # the warehouse only reads
        (None, "POST", "/orders", 401),  # no key at all
        ("finance", "GET", "/orders", 200),  # finance reads
        ("warehouse", "GET", "/orders", 403),  # the warehouse reads plans, not the order book
        ("warehouse", "GET", "/orders/SO-1", 403),  # nor one order's customer
        ("warehouse", "GET", "/orders/SO-1/history", 403),
        ("driver", "GET", "/orders", 403),  # drivers see their own route, not the order book
        ("finance", "POST", "/orders/SO-1/cancel", 403),  # finance cannot cancel
        ("order_system", "POST", "/orders/SO-1/cancel", 200),  # the order system can
    ],
)
def test_role_boundaries(
    client: TestClient,
    admin: dict[str, str],
    key_for: KeyMaker,
    role: str | None,
    method: str,
    path: str,
    status: int,
) -> None:
    """Each role may do only its part."""
    if path != "/orders":
        client.post("/orders", json=order_payload(), headers=admin)
    headers = {} if role is None else key_for(role, "C01" if role == "driver" else None)
    body = order_payload("SO-9") if path == "/orders" else {"reason": "customer asked"}
    answer = client.request(method, path, json=body if method == "POST" else None, headers=headers)
    assert answer.status_code == status

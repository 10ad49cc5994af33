"""Installations after delivery: created by the handover, planned within their window."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import PNG
from plan_helpers import DAY, ZONE, app_at, engine_of, store_solved
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.orders.models import Order, OrderItem, OrderStatus
from api.plans.model_input import planning_input
from optimizer.result import ReasonCode

ON_DAY = dt.datetime.combine(DAY, dt.time(9, 0), tzinfo=ZONE)
AT = ON_DAY.isoformat()
GPS = {"lat": 30.66, "lon": 104.07}
NEXT, AFTER = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
KITCHEN = [("CAB-1", "橱柜单元", 3, 30.0, 0.4, "cabinet"), ("HDL-1", "拉手", 6, 0.1, 0.001, None)]
SOFA = [("SOFA-3", "三人沙发", 1, 45.0, 2.1, None)]


def post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    answer = client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def order(external_id: str, n: int, items: list[tuple[Any, ...]]) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "customer": f"客户{n}",
        "phone": f"1380013800{n}",
        "address": f"成都市成华区建设路{n}号",
        "lat": 30.66 + 0.01 * n,
        "lon": 104.07,
        "date": DAY.isoformat(),
        "slot": "morning",
        "items": [
            {"sku": s, "name": m, "quantity": q, "weight_kg": w, "volume_m3": v, "install_type": t}
            for s, m, q, w, v, t in items
        ],
    }


def seed(client: TestClient, admin: dict[str, str]) -> None:
    """A truck, a cabinet fitter T1 and a plumber T2; a kitchen and a sofa to deliver."""
    post(client, "/depots", {"code": "WH", "name": "成华仓", "lat": 30.66, "lon": 104.06}, admin)
    for skill in ("cabinet_install", "sanitary_install"):
        post(client, "/skills", {"name": skill}, admin)
    small = {"depot_code": "WH", "weight_kg": 100, "volume_m3": 2, "kind": "technician"}
    post(
        client,
        "/vehicles",
        {"code": "C01", "depot_code": "WH", "weight_kg": 1000, "volume_m3": 12},
        admin,
    )
    post(client, "/vehicles", {**small, "code": "T1", "skills": ["cabinet_install"]}, admin)
    post(client, "/vehicles", {**small, "code": "T2", "skills": ["sanitary_install"]}, admin)
    post(client, "/orders", order("SO-K", 1, KITCHEN), admin)
    post(client, "/orders", order("SO-S", 2, SOFA), admin)


def plan(client: TestClient, date: dt.date, admin: dict[str, str]) -> dict[str, Any]:
    """Solve `date` as the runner does, store it, publish it; the published plan's view."""
    plan_id = store_solved(client, date)
    answer = client.post(f"/plans/{plan_id}/publish", headers={**admin, "If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    published: dict[str, Any] = client.get(f"/plans/{plan_id}", headers=admin).json()
    return published


def stop_post(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str], key: str = ""
) -> Any:
    headers = {**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return client.post(f"/handover/{DAY.isoformat()}{path}", json=body, headers=headers)


def deliver_all(client: TestClient, key_for: KeyMaker, key: str = "") -> None:
    """C01 loads, leaves and hands over the kitchen and the sofa in full."""
    driver = key_for("driver", "C01")
    counts = [
        {"order": o, "sku": s, "quantity": q}
        for o, items in (("SO-K", KITCHEN), ("SO-S", SOFA))
        for s, _, q, *_ in items
    ]
    body = {"keeper_name": "王库管", "at": AT, "counts": counts}
    assert stop_post(client, "/loading/C01/count", body, key_for("warehouse")).status_code == 201
    sign = {"crew_leader_name": "张伟", "at": AT}
    assert stop_post(client, "/loading/C01/sign", sign, driver).status_code == 201
    assert stop_post(client, "/routes/C01/depart", {"at": AT, **GPS}, driver).status_code == 201
    for external_id, items in (("SO-K", KITCHEN), ("SO-S", SOFA)):
        handed = [{"sku": s, "quantity": q} for s, _, q, *_ in items]
        arrive = stop_post(client, f"/stops/{external_id}/arrive", {"at": AT, **GPS}, driver)
        assert arrive.status_code == 201, arrive.text
        body = {"at": AT, **GPS, "counts": handed}
        answer = stop_post(
            client, f"/stops/{external_id}/deliver", body, driver, key and f"{key}-{external_id}"
        )
        assert answer.status_code == 201, answer.text


def installations(client: TestClient) -> list[Order]:
    with Session(engine_of(client)) as session:
        return list(session.exec(select(Order).where(Order.service_type == "install")))


@pytest.fixture
def delivered(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> Iterator[TestClient]:
    """Both orders planned, published and handed over on DAY; the service as of that morning."""
    with app_at(settings) as booking:
        seed(booking, admin)
        published = plan(booking, DAY, admin)
        assert {s["external_id"] for r in published["routes"] for s in r["stops"]} == {
            "SO-K",
            "SO-S",
        }
    with app_at(settings, ON_DAY) as client:
        deliver_all(client, key_for)
        yield client


def test_handing_over_goods_to_install_books_their_installation(delivered: TestClient) -> None:
    """The kitchen's cabinets get one installation, in the window after DAY; the sofa none."""
    (install,) = installations(delivered)
    with Session(engine_of(delivered)) as session:
        kitchen = session.exec(select(Order).where(Order.external_id == "SO-K")).one()
        items = session.exec(select(OrderItem).where(OrderItem.order_id == install.id)).all()
    assert install.follows_order_id == kitchen.id and install.status is OrderStatus.BOOKED
    assert (install.date, install.latest_date) == (NEXT, AFTER)
    assert install.skills == ["cabinet_install"] and install.service_minutes == 240
    # Only the cabinet is installed; the technician carries nothing.
    assert [(i.sku, i.quantity, i.delivered, i.weight_kg) for i in items] == [("CAB-1", 3, 3, 0.0)]


def test_a_retried_handover_books_no_second_installation(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """The same delivery sent twice with its key is stored once, and so is its installation."""
    with app_at(settings) as booking:
        seed(booking, admin)
        plan(booking, DAY, admin)
    with app_at(settings, ON_DAY) as client:
        deliver_all(client, key_for, key="deliver-once")
        driver = key_for("driver", "C01")
        handed = [{"sku": s, "quantity": q} for s, _, q, *_ in KITCHEN]
        body = {"at": AT, **GPS, "counts": handed}
        again = stop_post(client, "/stops/SO-K/deliver", body, driver, "deliver-once-SO-K")
        assert again.status_code in (200, 201), again.text
        assert len(installations(client)) == 1


@pytest.mark.parametrize(
    ("install_type", "named"),
    [
        ("spaceship", "spaceship"),  # a type the store does not install
        ("floor", "floor_install"),  # a known type whose skill nobody can hold yet
    ],
)
def test_an_install_type_the_store_cannot_do_is_refused(
    client: TestClient, admin: dict[str, str], install_type: str, named: str
) -> None:
    """Booking such an item is a 422 naming the item's field, and nothing is stored."""
    body = order("SO-X", 3, [("CAB-1", "橱柜", 1, 30.0, 0.4, install_type)])
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with app_at(settings, dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZONE)) as booking:
        post(booking, "/depots", {"code": "WH", "name": "仓", "lat": 30.66, "lon": 104.06}, admin)
        answer = booking.post("/orders", json=body, headers=admin)
        listed = booking.get("/orders", headers=admin).json()
    assert answer.status_code == 422
    assert answer.json()["field"] == "items[0].install_type"
    assert named in answer.json()["detail"]
    assert listed == []


def test_installation_is_never_planned_before_delivery_or_after_its_window(
    delivered: TestClient, admin: dict[str, str]
) -> None:
    """Plannable the day after delivery and the day after that; never on DAY, never later."""
    settings = delivered.app.state.settings  # type: ignore[attr-defined]
    (install,) = installations(delivered)
    visible = {}
    with Session(engine_of(delivered)) as session:
        for offset in range(4):  # DAY itself, the two days of the window, one day past it
            date = DAY + dt.timedelta(days=offset)
            day = planning_input(session=session, date=date, settings=settings)
            visible[offset] = install.external_id in day.orders
    assert visible == {0: False, 1: True, 2: True, 3: False}
    for offset, listed in ((2, []), (3, [install.external_id])):  # last day; the day after
        date = DAY + dt.timedelta(days=offset)
        answer = delivered.get(f"/orders/overdue-installations?date={date}", headers=admin)
        assert answer.status_code == 200, answer.text
        assert [o["external_id"] for o in answer.json()] == listed


def test_the_planner_puts_it_off_to_the_day_its_fitter_works(
    delivered: TestClient, admin: dict[str, str]
) -> None:
    """T1 is off on NEXT and T2 lacks the skill: the visit waits for T1 on AFTER, never T2."""
    staff = post(
        delivered, "/staff", {"name": "李师傅", "phone": "13900139001", "role": "driver"}, admin
    )
    crew = {
        "date": NEXT.isoformat(),
        "vehicle_code": "T2",
        "staff_id": staff["id"],
        "role": "driver",
    }
    post(delivered, "/crews", crew, admin)
    (install,) = installations(delivered)
    first = plan(delivered, NEXT, admin)
    assert all(s["external_id"] != install.external_id for r in first["routes"] for s in r["stops"])
    (put_off,) = [u for u in first["unassigned"] if u["external_id"] == install.external_id]
    assert put_off["code"] == ReasonCode.LATER_DAY.value and f"T1@{AFTER}" in put_off["reason"]
    second = plan(delivered, AFTER, admin)
    carriers = {
        r["vehicle_code"]
        for r in second["routes"]
        for s in r["stops"]
        if s["external_id"] == install.external_id
    }
    assert carriers == {"T1"}
    (stored,) = installations(delivered)
    assert (stored.date, stored.status) == (AFTER, OrderStatus.PLANNED)


def test_installations_get_the_install_reminder_once(
    delivered: TestClient, admin: dict[str, str]
) -> None:
    """The day-before run tells the installation's customer of the installation, once."""
    (install,) = installations(delivered)
    plan(delivered, NEXT, admin)
    for _ in range(2):  # the job runs twice
        answer = delivered.post(f"/notifications/day-before/{NEXT}", headers=admin)
        assert answer.status_code == 200, answer.text
    messages = delivered.get("/notifications", headers=admin).json()
    mine = [m for m in messages if m["external_id"] == install.external_id]
    assert [m["kind"] for m in mine] == ["install_reminder"]
    assert "上门安装" in mine[0]["text"]


def test_a_signed_service_report_completes_the_installation(
    delivered: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Next day the fitter leaves with nothing to load, arrives, the customer signs: in time."""
    (install,) = installations(delivered)
    first = plan(delivered, NEXT, admin)
    (route,) = [
        r
        for r in first["routes"]
        if any(s["external_id"] == install.external_id for s in r["stops"])
    ]
    assert route["vehicle_code"] == "T1"
    settings = delivered.app.state.settings  # type: ignore[attr-defined]
    at = dt.datetime.combine(NEXT, dt.time(9, 0), tzinfo=ZONE).isoformat()
    with app_at(settings, dt.datetime.combine(NEXT, dt.time(9, 0), tzinfo=ZONE)) as client:
        fitter = {**key_for("driver", "T1"), "Idempotency-Key": "x"}
        base = f"/handover/{NEXT}"
        for path, body in (
            (f"{base}/routes/T1/depart", {"at": at, **GPS}),
            (f"{base}/stops/{install.external_id}/arrive", {"at": at, **GPS}),
            (
                f"{base}/stops/{install.external_id}/service-report",
                {
                    "at": at,
                    **GPS,
                    "work_done": "橱柜安装完成",
                    "satisfaction": 5,
                    "signer_name": "客户1",
                    "signature_png": PNG,
                },
            ),
        ):
            answer = client.post(
                path, json=body, headers={**fitter, "Idempotency-Key": uuid.uuid4().hex}
            )
            assert answer.status_code == 201, answer.text
    (done,) = installations(delivered)
    assert done.status is OrderStatus.DELIVERED
    report = delivered.get(f"/kpis?from={NEXT}&to={NEXT}", headers=admin).json()
    within = report["total"]["installs_within_window"]
    assert (within["numerator"], within["denominator"]) == (1, 1)


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (1, 200),  # tomorrow: technicians' visits need no three-day lead
        (0, 422),  # today's routes are already out
    ],
)
def test_an_overdue_installation_gets_a_new_agreed_date(
    delivered: TestClient, admin: dict[str, str], offset: int, status: int
) -> None:
    """Past its window, a dispatcher reschedules it; the new date is its whole window."""
    (install,) = installations(delivered)
    settings = delivered.app.state.settings  # type: ignore[attr-defined]
    today = DAY + dt.timedelta(days=3)
    new = today + dt.timedelta(days=offset)
    with app_at(settings, dt.datetime.combine(today, dt.time(9, 0), tzinfo=ZONE)) as client:
        body = {"date": new.isoformat(), "slot": "afternoon", "reason": "客户约定"}
        answer = client.post(f"/orders/{install.external_id}/reschedule", json=body, headers=admin)
    assert answer.status_code == status, answer.text
    if status == 200:
        assert (answer.json()["date"], answer.json()["latest_date"]) == (new.isoformat(),) * 2
    else:
        assert answer.json()["rule"] == "planned_day_before"

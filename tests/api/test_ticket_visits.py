"""A ticket's repair visit: booked for the planner, routed to a technician with the skill at
the agreed time, assigned on publishing, and closed with the report signed at the visit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import PNG, stored_service_report
from plan_helpers import DAY, NOW, ZONE, app_at, engine_of, if_match, store_solved
from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.orders.models import OrderEvent
from api.tickets.models import TicketEvent, TicketEventKind

ON_SITE = dt.datetime.combine(DAY, dt.time(10, 30), tzinfo=ZONE)
VISIT_MORNING = dt.datetime.combine(DAY, dt.time(8, 0), tzinfo=ZONE)
TICKET = {
    "external_id": "TK-1",
    "category": "repair",
    "description": "水龙头漏水",
    "customer_name": "张三",
    "customer_phone": "13800000000",
    "equipment": "厨房龙头",
    "service_type": "repair",
    "on_site_at": ON_SITE.isoformat(),
    "address": "成都市成华区建设路9号",
    "lat": 30.67,
    "lon": 104.08,
}
# code -> skills; T01 repairs, T02 lays floors only
TECHNICIANS = {"T01": ["repair"], "T02": ["floor_install"]}


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service three days before DAY, as when tickets are answered and visits booked."""
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def boss(key_for: KeyMaker) -> dict[str, str]:
    return key_for("dispatcher")


def fleet(client: TestClient, admin: dict[str, str], codes: tuple[str, ...]) -> None:
    """A depot, the skills, and these technicians (one person each)."""
    posts: list[tuple[str, dict[str, Any]]] = [
        ("/depots", {"code": "WH", "name": "仓", "lat": 30.66, "lon": 104.06}),
        ("/skills", {"name": "repair"}),
        ("/skills", {"name": "floor_install"}),
    ]
    for code in codes:
        technician = {
            "code": code,
            "kind": "technician",
            "depot_code": "WH",
            "weight_kg": 150,
            "volume_m3": 1.5,
            "skills": TECHNICIANS[code],
            "crew_size": 1,
            "shift_start": "08:00",
            "shift_end": "18:00",
        }
        posts.append(("/vehicles", technician))
    for path, body in posts:
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code == 201, answer.text


def scheduled(client: TestClient, boss: dict[str, str], **change: Any) -> dict[str, Any]:
    """TK-1 (with `change`) opened, answered and scheduled; the ticket as answered."""
    opened = client.post("/tickets", json={**TICKET, **change}, headers=boss)
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    assert client.post(f"/tickets/{ticket_id}/answer", headers=boss).status_code == 200
    answer = client.post(f"/tickets/{ticket_id}/schedule", headers=boss)
    assert answer.status_code == 200, answer.text
    ticket: dict[str, Any] = answer.json()
    return ticket


def visit_order(client: TestClient, boss: dict[str, str], name: str = "ticket-TK-1") -> Any:
    answer = client.get(f"/orders/{name}", headers=boss)
    assert answer.status_code == 200, answer.text
    return answer.json()


def store_plan(client: TestClient) -> int:
    """DAY solved as the planning job would and stored as a draft (version 1)."""
    return store_solved(client, DAY)


def published(client: TestClient, boss: dict[str, str]) -> dict[str, Any]:
    plan_id = store_plan(client)
    answer = client.post(f"/plans/{plan_id}/publish", headers={**boss, **if_match(1)})
    assert answer.status_code == 200, answer.text
    plan: dict[str, Any] = client.get(f"/plans/{plan_id}", headers=boss).json()
    return plan


def test_schedule_books_a_repair_visit_once(
    client: TestClient, admin: dict[str, str], boss: dict[str, str]
) -> None:
    """The visit is a repair order at the agreed time ± 30 min; a second call is the same visit."""
    fleet(client, admin, ("T01",))
    ticket = scheduled(client, boss)
    order = visit_order(client, boss)
    assert ticket["visit_order_id"] == order["id"] and ticket["status"] == "answered"
    assert (order["service_type"], order["date"], order["slot"]) == (
        "repair",
        DAY.isoformat(),
        "morning",
    )
    assert (order["window_from"], order["window_to"]) == ("10:00:00", "11:00:00")
    assert order["skills"] == ["repair"] and order["items"] == []
    assert (order["cash_cny"], order["service_minutes"]) == (0, 60)
    assert (order["address"], order["lat"], order["lon"]) == (TICKET["address"], 30.67, 104.08)
    again = client.post(f"/tickets/{ticket['id']}/schedule", headers=boss)
    assert again.status_code == 200 and again.json()["visit_order_id"] == order["id"]
    with Session(engine_of(client)) as session:
        events = session.exec(select(OrderEvent).where(OrderEvent.order_id == order["id"])).all()
    assert [event.kind for event in events] == ["created"]


def test_the_visit_goes_to_the_customers_order_address(
    client: TestClient, admin: dict[str, str], boss: dict[str, str]
) -> None:
    """With order_external_id, the visit takes that order's address and coordinates."""
    fleet(client, admin, ("T01",))
    earlier = {
        "external_id": "SO-7",
        "customer": "张三",
        "phone": "13800000000",
        "address": "成都市武侯区科华北路7号",
        "lat": 30.63,
        "lon": 104.08,
        "date": DAY.isoformat(),
        "slot": "morning",
    }
    assert client.post("/orders", json=earlier, headers=boss).status_code == 201
    place = {"address": None, "lat": None, "lon": None, "order_external_id": "SO-7"}
    scheduled(client, boss, **place)
    order = visit_order(client, boss)
    assert (order["address"], order["lat"], order["lon"]) == (earlier["address"], 30.63, 104.08)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # no agreed time on site
        ({"on_site_at": None}, "on_site_at"),
        # neither an address of its own nor the customer's order
        ({"address": None, "lat": None, "lon": None}, "address"),
        # the customer's order is not known
        ({"order_external_id": "SO-404"}, "order_external_id"),
        # maintenance needs the repair skill, which the store has not created
        ({"service_type": "maintenance"}, "service_type"),
    ],
)
def test_schedule_refuses_a_ticket_that_cannot_be_sent(
    client: TestClient,
    admin: dict[str, str],
    boss: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    """A ticket lacking what a visit needs is a 422 naming the field, and books nothing."""
    if field != "service_type":
        fleet(client, admin, ())  # the skills exist
    opened = client.post("/tickets", json={**TICKET, **change}, headers=boss).json()
    client.post(f"/tickets/{opened['id']}/answer", headers=boss)
    refused = client.post(f"/tickets/{opened['id']}/schedule", headers=boss)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field
    assert client.get(f"/tickets/{opened['id']}", headers=boss).json()["visit_order_id"] is None
    assert client.get("/orders", headers=boss).json() == []


def test_schedule_needs_an_answered_ticket(
    client: TestClient, admin: dict[str, str], boss: dict[str, str], key_for: KeyMaker
) -> None:
    """An open ticket is not scheduled yet (409 naming its status); a driver may not at all."""
    fleet(client, admin, ("T01",))
    opened = client.post("/tickets", json=TICKET, headers=boss).json()
    refused = client.post(f"/tickets/{opened['id']}/schedule", headers=boss)
    assert refused.status_code == 409 and refused.json()["field"] == "status"
    driver = client.post(f"/tickets/{opened['id']}/schedule", headers=key_for("driver", "T01"))
    assert driver.status_code == 403


@pytest.mark.parametrize(
    ("technicians", "vehicle"),
    [
        # T01 holds the repair skill: the visit is its
        (("T01", "T02"), "T01"),
        # only T02, a floor layer, works: the visit is left out for the missing skill
        (("T02",), None),
    ],
)
def test_the_visit_is_routed_only_to_a_technician_with_the_skill(
    client: TestClient,
    admin: dict[str, str],
    boss: dict[str, str],
    technicians: tuple[str, ...],
    vehicle: str | None,
) -> None:
    """The repair goes to the repair technician, starting within on_site_at ± tolerance."""
    fleet(client, admin, technicians)
    scheduled(client, boss)
    plan = published(client, boss)
    stops = {(r["vehicle_code"], s["external_id"]): s for r in plan["routes"] for s in r["stops"]}
    if vehicle is None:
        assert stops == {}
        (left,) = plan["unassigned"]
        assert (left["external_id"], left["code"]) == ("ticket-TK-1", "missing_skill")
        return
    assert list(stops) == [(vehicle, "ticket-TK-1")]
    start = stops[(vehicle, "ticket-TK-1")]["start"]
    assert "10:00" <= start <= "11:00", start  # on_site_at 10:30 ± 30 minutes


def test_publishing_assigns_the_ticket_and_starts_the_contact_clock(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], boss: dict[str, str]
) -> None:
    """On publishing, the ticket is assigned to the technician routing its visit, as of now."""
    fleet(client, admin, ("T01", "T02"))
    ticket = scheduled(client, boss)
    published(client, boss)
    shown = client.get(f"/tickets/{ticket['id']}", headers=boss).json()
    assert (shown["status"], shown["vehicle_code"]) == ("assigned", "T01")
    assert dt.datetime.fromisoformat(shown["assigned_at"]) == NOW
    later = NOW + dt.timedelta(minutes=settings.ticket_contact_minutes + 5)
    with app_at(settings, later) as late:
        assert late.get("/tickets/report", headers=boss).json()["breaches"]["contact"] == 1


def test_a_changed_time_moves_the_visit_until_it_is_published(
    client: TestClient, admin: dict[str, str], boss: dict[str, str]
) -> None:
    """Before publishing the visit follows the ticket's new time; after, a change is a 409."""
    fleet(client, admin, ("T01",))
    ticket = scheduled(client, boss)
    afternoon = {"on_site_at": dt.datetime.combine(DAY, dt.time(14, 0), tzinfo=ZONE).isoformat()}
    client.patch(f"/tickets/{ticket['id']}", json=afternoon, headers=boss)
    moved = client.post(f"/tickets/{ticket['id']}/schedule", headers=boss).json()
    order = visit_order(client, boss)
    assert moved["visit_order_id"] == ticket["visit_order_id"] == order["id"]
    assert (order["slot"], order["window_from"], order["window_to"]) == (
        "afternoon",
        "13:30:00",
        "14:30:00",
    )
    published(client, boss)
    client.patch(f"/tickets/{ticket['id']}", json={"on_site_at": ON_SITE.isoformat()}, headers=boss)
    refused = client.post(f"/tickets/{ticket['id']}/schedule", headers=boss)
    assert refused.status_code == 409 and refused.json()["field"] == "on_site_at"


@pytest.mark.parametrize(
    ("by_hand", "after"),
    [
        (None, ("answered", None)),  # the technician is no longer sent: back to be assigned
        ("T02", ("assigned", "T02")),  # given to another technician by hand since: kept
    ],
)
def test_a_visit_left_off_a_newer_plan_releases_its_ticket(
    client: TestClient,
    settings: ServiceSettings,
    admin: dict[str, str],
    boss: dict[str, str],
    by_hand: str | None,
    after: tuple[str, str | None],
) -> None:
    """Publishing a plan without the visit unassigns the ticket its earlier plan assigned."""
    fleet(client, admin, ("T01", "T02"))
    ticket = scheduled(client, boss)
    published(client, boss)
    if by_hand:
        assign = client.post(
            f"/tickets/{ticket['id']}/assign", json={"vehicle_code": by_hand}, headers=boss
        )
        assert assign.status_code == 200, assign.text
    newer = store_plan(client)
    body = {"order": "ticket-TK-1", "reason": "customer away"}
    taken = client.post(f"/plans/{newer}/unassign", json=body, headers={**boss, **if_match(1)})
    assert taken.status_code == 200, taken.text
    answer = client.post(f"/plans/{newer}/publish", headers={**boss, **if_match(2)})
    assert answer.status_code == 200, answer.text
    shown = client.get(f"/tickets/{ticket['id']}", headers=boss).json()
    assert (shown["status"], shown["vehicle_code"]) == after
    with Session(engine_of(client)) as session:
        kinds = [e.kind for e in session.exec(select(TicketEvent).order_by(col(TicketEvent.id)))]
    assert (kinds[-1] == TicketEventKind.UNASSIGNED) is (by_hand is None)
    if by_hand is None:
        later = NOW + dt.timedelta(minutes=settings.ticket_contact_minutes + 5)
        with app_at(settings, later) as late:
            assert late.get("/tickets/report", headers=boss).json()["breaches"]["contact"] == 0
        # off the published plan, the visit follows the ticket to a new time again
        afternoon = dt.datetime.combine(DAY, dt.time(14, 0), tzinfo=ZONE).isoformat()
        client.patch(f"/tickets/{ticket['id']}", json={"on_site_at": afternoon}, headers=boss)
        moved = client.post(f"/tickets/{ticket['id']}/schedule", headers=boss)
        assert moved.status_code == 200, moved.text
        assert visit_order(client, boss)["slot"] == "afternoon"


def handover(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post(f"/handover/{DAY.isoformat()}{path}", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_one_repair_ticket_through_to_the_signed_report(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Ticket, visit, plan, publish, arrival, signed report, closed; the KPIs count it."""
    boss = key_for("dispatcher")
    fleet(client, admin, ("T01", "T02"))
    ticket = scheduled(client, boss)
    published(client, boss)
    technician = key_for("driver", "T01")
    gps = {"at": VISIT_MORNING.isoformat(), "lat": 30.67, "lon": 104.08}
    with app_at(settings, VISIT_MORNING) as day:
        handover(day, "/routes/T01/depart", gps, technician)
        handover(day, "/stops/ticket-TK-1/arrive", {**gps, "at": ON_SITE.isoformat()}, technician)
        report = {
            **gps,
            "work_done": "更换阀芯, 试水无渗漏",
            "parts_used": [{"name": "阀芯", "quantity": 1}],
            "satisfaction": 5,
            "signer_name": "张三",
            "signature_png": PNG,
        }
        signed = handover(day, "/stops/ticket-TK-1/service-report", report, technician)
        close = {"tested": True, "site_cleaned": True, "service_report_id": signed["id"]}
        closed = day.post(f"/tickets/{ticket['id']}/close", json=close, headers=boss)
        week = {"from": NOW.date().isoformat(), "to": DAY.isoformat()}
        kpis = day.get("/kpis", params=week, headers=boss).json()
    assert closed.status_code == 200, closed.text
    shown = closed.json()
    assert (shown["status"], shown["vehicle_code"]) == ("closed", "T01")
    assert (shown["visits"], shown["satisfaction"], shown["service_report_id"]) == (
        1,
        5,
        signed["id"],
    )
    t01 = next(row for row in kpis["technicians"] if row["vehicle_code"] == "T01")
    one = {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert (t01["visits_on_time"], t01["first_visit_fix"], t01["tickets_closed"]) == (one, one, 1)
    assert t01["satisfaction"] == {"count": 1, "total": 5, "average": 5.0}
    # assigned on publishing three days before and never called: the contact clock ran out
    assert t01["contacted_in_time"] == {"numerator": 0, "denominator": 1, "rate": 0.0}


@pytest.mark.parametrize(
    ("arrived", "verdict"),
    [
        (dt.time(10, 55), "on_time"),  # inside 10:00-11:00, the agreed 10:30 ± 30 minutes
        (dt.time(11, 15), "late"),  # still inside the morning slot, but past the agreed hour
        (dt.time(9, 45), "early"),  # the slot had opened, the agreed hour had not
    ],
)
def test_a_repair_is_held_to_the_agreed_time_not_its_slot(
    settings: ServiceSettings,
    client: TestClient,
    admin: dict[str, str],
    key_for: KeyMaker,
    arrived: dt.time,
    verdict: str,
) -> None:
    """The technician's page shows the agreed hour, and arrivals are judged against it."""
    boss = key_for("dispatcher")
    fleet(client, admin, ("T01",))
    scheduled(client, boss)
    published(client, boss)
    technician = key_for("driver", "T01")
    at = dt.datetime.combine(DAY, arrived, tzinfo=ZONE)
    with app_at(settings, at) as day:
        route = day.get("/driver/route", headers=technician).json()
        gps = {"at": at.isoformat(), "lat": 30.67, "lon": 104.08}
        handover(day, "/routes/T01/depart", gps, technician)
        handover(day, "/stops/ticket-TK-1/arrive", gps, technician)
        crew = day.get(f"/reports/daily/{DAY.isoformat()}", headers=boss).json()["crews"][0]
        week = {"from": NOW.date().isoformat(), "to": DAY.isoformat()}
        kpis = day.get("/kpis", params=week, headers=boss).json()
    assert route["stops"][0]["window"] == "10:00–11:00"
    assert {k: crew[k] for k in ("on_time", "early", "late")} == {
        k: int(k == verdict) for k in ("on_time", "early", "late")
    }
    t01 = next(row for row in kpis["technicians"] if row["vehicle_code"] == "T01")
    assert t01["visits_on_time"]["numerator"] == int(verdict == "on_time")


def test_a_report_from_another_visit_does_not_close_the_ticket(
    client: TestClient, admin: dict[str, str], boss: dict[str, str]
) -> None:
    """A scheduled ticket closes only with the report signed at one of its own visits."""
    fleet(client, admin, ("T01",))
    ticket = scheduled(client, boss)
    client.post(f"/tickets/{ticket['id']}/assign", json={"vehicle_code": "T01"}, headers=boss)
    report_id = stored_service_report(client, date=DAY, key="report-elsewhere")
    close = {"tested": True, "site_cleaned": True, "service_report_id": report_id}
    refused = client.post(f"/tickets/{ticket['id']}/close", json=close, headers=boss)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["rule"]) == ("service_report_id", "own_visit")

"""After-sales tickets: dispatchability, the status machine, the clocks, escalation, reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import stored_service_report
from plan_helpers import ZONE, app_at

from api.core.config import ServiceSettings
from api.core.hashing import digest
from api.tickets.models import TicketCreate
from api.tickets.service import LATER_FIELDS, payload_hash

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZONE)
COMPLETE = {
    "customer_name": "张三",
    "customer_phone": "13800000000",
    "equipment": "三人沙发",
    "service_type": "repair",
    "on_site_at": "2026-11-26T10:00:00+08:00",
    "address": "成都市成华区建设路1号",
    "lat": 30.66,
    "lon": 104.07,
}
REPORT_DAY = dt.date(2026, 11, 26)  # the day of the on-site visit above


@contextmanager
def at(settings: ServiceSettings, moment: dt.datetime) -> Iterator[TestClient]:
    with app_at(settings, moment) as client:
        yield client


def _ticket(external_id: str, category: str = "repair", **fields: Any) -> dict[str, Any]:
    return {"external_id": external_id, "category": category, "description": "坏了", **fields}


def _open(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> int:
    answer = client.post("/tickets", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _fleet(client: TestClient, admin: dict[str, str]) -> None:
    depot = {"code": "WH", "name": "仓", "lat": 30.66, "lon": 104.06}
    assert client.post("/depots", json=depot, headers=admin).status_code == 201
    truck = {"code": "T01", "depot_code": "WH", "weight_kg": 500, "volume_m3": 5}
    assert client.post("/vehicles", json=truck, headers=admin).status_code == 201


def _to_assigned(client: TestClient, headers: dict[str, str], ticket_id: int) -> None:
    assert client.post(f"/tickets/{ticket_id}/answer", headers=headers).status_code == 200
    answer = client.post(
        f"/tickets/{ticket_id}/assign", json={"vehicle_code": "T01"}, headers=headers
    )
    assert answer.status_code == 200, answer.text


def test_missing_fields_block_assignment(
    client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A ticket without contact, equipment, service type, time and place is refused naming them."""
    _fleet(client, admin)
    boss = key_for("dispatcher")
    ticket_id = _open(client, key_for("order_system"), _ticket("T-1", customer_name="张三"))
    shown = client.get(f"/tickets/{ticket_id}", headers=boss).json()
    expected = [
        "customer_phone",
        "equipment",
        "service_type",
        "on_site_at",
        "address",
        "lat",
        "lon",
    ]
    assert shown["missing"] == expected
    client.post(f"/tickets/{ticket_id}/answer", headers=boss)
    refused = client.post(
        f"/tickets/{ticket_id}/assign", json={"vehicle_code": "T01"}, headers=boss
    )
    assert refused.status_code == 422
    assert ", ".join(expected) in refused.json()["detail"]
    linked = client.patch(f"/tickets/{ticket_id}", json={"order_external_id": "SO-1"}, headers=boss)
    assert linked.json()["missing"] == expected[:4]  # the customer's order says where
    patched = client.patch(f"/tickets/{ticket_id}", json=COMPLETE, headers=boss)
    assert patched.json()["missing"] == []
    unknown = client.post(f"/tickets/{ticket_id}/assign", json={"vehicle_code": "X9"}, headers=boss)
    assert unknown.status_code == 422 and unknown.json()["field"] == "vehicle_code"
    done = client.post(f"/tickets/{ticket_id}/assign", json={"vehicle_code": "T01"}, headers=boss)
    assert done.json()["status"] == "assigned"


def test_invalid_transition_names_the_status(client: TestClient, key_for: KeyMaker) -> None:
    """Closing an open ticket is a conflict naming its current status."""
    boss = key_for("dispatcher")
    ticket_id = _open(client, boss, _ticket("T-2", **COMPLETE))
    body = {"tested": True, "site_cleaned": True, "service_report_id": 1}
    refused = client.post(f"/tickets/{ticket_id}/close", json=body, headers=boss)
    assert refused.status_code == 409 and "is open" in refused.json()["detail"]


def test_answer_clock_breach(
    settings: ServiceSettings, client: TestClient, key_for: KeyMaker
) -> None:
    """Answered after 12 h is a breach, answered in time is not, unanswered past 12 h is."""
    boss = key_for("dispatcher")
    with at(settings, T0) as early:
        late_id = _open(early, boss, _ticket("T-late"))
        on_time_id = _open(early, boss, _ticket("T-on-time"))
        _open(early, boss, _ticket("T-never"))
        early.post(f"/tickets/{on_time_id}/answer", headers=boss)
    with at(settings, T0 + dt.timedelta(hours=11)) as before:
        assert before.get("/tickets/report", headers=boss).json()["breaches"]["answer"] == 0
    with at(settings, T0 + dt.timedelta(hours=13)) as after:
        after.post(f"/tickets/{late_id}/answer", headers=boss)
        report = after.get("/tickets/report", headers=boss).json()
    assert report["breaches"]["answer"] == 2  # T-late answered late, T-never still unanswered


def test_contact_clock_breach(
    settings: ServiceSettings, client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """The customer called 20 minutes after assignment breaches the 15-minute clock."""
    _fleet(client, admin)
    boss = key_for("dispatcher")
    with at(settings, T0) as start:
        ticket_id = _open(start, boss, _ticket("T-call", **COMPLETE))
        _to_assigned(start, boss, ticket_id)
    eta = {"estimated_arrival": "2026-11-24T11:00:00+08:00"}
    with at(settings, T0 + dt.timedelta(minutes=20)) as later:
        assert (
            later.post(f"/tickets/{ticket_id}/contact", json=eta, headers=boss).status_code == 200
        )
        assert later.get("/tickets/report", headers=boss).json()["breaches"]["contact"] == 1


def test_waiting_for_parts_blocks_assignment(
    client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A ticket waiting for parts cannot be assigned until the warehouse marks them arrived."""
    _fleet(client, admin)
    boss = key_for("dispatcher")
    ticket_id = _open(client, boss, _ticket("T-parts", **COMPLETE))
    client.post(f"/tickets/{ticket_id}/answer", headers=boss)
    waiting = client.post(f"/tickets/{ticket_id}/wait-for-parts", headers=boss)
    assert waiting.json()["status"] == "waiting_parts"
    refused = client.post(
        f"/tickets/{ticket_id}/assign", json={"vehicle_code": "T01"}, headers=boss
    )
    assert refused.status_code == 409 and "waiting_parts" in refused.json()["detail"]
    arrived = client.post(f"/tickets/{ticket_id}/parts-arrived", headers=key_for("warehouse"))
    assert arrived.json()["status"] == "answered"
    listed = client.get("/tickets", params={"status": "answered"}, headers=boss).json()
    assert [t["id"] for t in listed] == [ticket_id]
    done = client.post(f"/tickets/{ticket_id}/assign", json={"vehicle_code": "T01"}, headers=boss)
    assert done.status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tested": False}, "tested"),  # the repair was not tested
        ({"site_cleaned": False}, "site_cleaned"),  # the site was left dirty
        ({"service_report_id": 999}, "service_report_id"),  # no such signed report
    ],
)
def test_close_needs_checks_and_report(
    client: TestClient, key_for: KeyMaker, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    """Closing is refused without both checks and a signed service report."""
    _fleet(client, admin)
    boss = key_for("dispatcher")
    ticket_id = _open(client, boss, _ticket("T-close", **COMPLETE))
    _to_assigned(client, boss, ticket_id)
    body = {
        "tested": True,
        "site_cleaned": True,
        "service_report_id": stored_service_report(client, date=REPORT_DAY, key="report-1"),
    }
    refused = client.post(f"/tickets/{ticket_id}/close", json={**body, **change}, headers=boss)
    assert refused.status_code == 422 and refused.json()["field"] == field
    closed = client.post(f"/tickets/{ticket_id}/close", json=body, headers=boss)
    assert closed.json()["status"] == "closed"


def test_overdue_complaint_escalated_once(
    settings: ServiceSettings, client: TestClient, key_for: KeyMaker
) -> None:
    """A complaint past its solution's due date is escalated on the first run only."""
    boss = key_for("dispatcher")
    due = (T0 + dt.timedelta(days=1)).isoformat()
    fields = {
        "solution": "换新",
        "solution_due": due,
        "root_cause": "包装",
        "corrective_action": "加固",
    }
    with at(settings, T0) as start:
        late_id = _open(start, boss, _ticket("C-1", "complaint", **fields))
        _open(start, boss, _ticket("C-2", "complaint", **{**fields, "solution_due": None}))
        assert start.post("/tickets/escalations", headers=boss).json()["escalated"] == []
    with at(settings, T0 + dt.timedelta(days=2)) as later:
        assert later.post("/tickets/escalations", headers=boss).json()["escalated"] == [late_id]
        assert later.post("/tickets/escalations", headers=boss).json()["escalated"] == []
        shown = later.get(f"/tickets/{late_id}", headers=boss).json()
    assert shown["escalated"] is True and shown["escalated_at"] is not None


def test_report_figures(
    settings: ServiceSettings, client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """Age buckets, first-visit fix rate and satisfaction on four tickets checked by hand."""
    _fleet(client, admin)
    boss = key_for("dispatcher")
    report_id = stored_service_report(client, date=REPORT_DAY, key="report-1")
    close = {"tested": True, "site_cleaned": True, "service_report_id": report_id}
    now = T0 + dt.timedelta(days=4)
    # opened 4 d, 2 d and 13 h before now; the first two get closed
    with at(settings, T0) as day0:
        one_visit = _open(day0, boss, _ticket("R-1", **COMPLETE))
        two_visits = _open(day0, boss, _ticket("R-2", **COMPLETE))
        _open(day0, boss, _ticket("R-old"))
    with at(settings, now - dt.timedelta(days=2)) as day2:
        _open(day2, boss, _ticket("R-2d"))
    with at(settings, now - dt.timedelta(hours=13)) as recent:
        _open(recent, boss, _ticket("R-13h"))
    with at(settings, now) as today:
        _open(today, boss, _ticket("R-new"))
        for ticket_id, visits, score in ((one_visit, 1, 5), (two_visits, 2, 3)):
            _to_assigned(today, boss, ticket_id)
            for _ in range(visits):
                today.post(f"/tickets/{ticket_id}/visit", headers=boss)
            closed = today.post(
                f"/tickets/{ticket_id}/close", json={**close, "satisfaction": score}, headers=boss
            )
            assert closed.status_code == 200, closed.text
        report = today.get("/tickets/report", headers=boss).json()
    assert report["open_by_age"] == {"<12h": 1, "12-24h": 1, "1-3d": 1, ">3d": 1}
    assert report["closed"] == 2
    assert report["first_visit_fix_rate"] == 0.5  # one of the two closed needed one visit
    assert report["average_satisfaction"] == 4.0  # (5 + 3) / 2


def test_follow_up_clock(
    settings: ServiceSettings, client: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A follow-up call not done within the configured days after closing is a breach."""
    _fleet(client, admin)
    boss = key_for("dispatcher")
    with at(settings, T0) as start:
        ticket_id = _open(start, boss, _ticket("F-1", **COMPLETE))
        _to_assigned(start, boss, ticket_id)
        body = {
            "tested": True,
            "site_cleaned": True,
            "service_report_id": stored_service_report(start, date=REPORT_DAY, key="report-1"),
        }
        start.post(f"/tickets/{ticket_id}/close", json=body, headers=boss)
    with at(settings, T0 + dt.timedelta(days=settings.ticket_follow_up_days, hours=1)) as later:
        assert later.get("/tickets/report", headers=boss).json()["breaches"]["follow_up"] == 1
        assert later.post(f"/tickets/{ticket_id}/follow-up", headers=boss).status_code == 200
        again = later.post(f"/tickets/{ticket_id}/follow-up", headers=boss)
        assert again.status_code == 409


def test_create_is_idempotent_on_external_id(client: TestClient, key_for: KeyMaker) -> None:
    """The same body again is the same ticket; a different body under the same id is a 409."""
    system = key_for("order_system")
    first = client.post("/tickets", json=_ticket("T-9"), headers=system)
    again = client.post("/tickets", json=_ticket("T-9"), headers=system)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = client.post("/tickets", json=_ticket("T-9", "complaint"), headers=system)
    assert other.status_code == 409
    assert len(client.get("/tickets", headers=system).json()) == 1


def test_time_without_offset_is_refused(client: TestClient, key_for: KeyMaker) -> None:
    """A visit time without a UTC offset is ambiguous and refused, not stored."""
    body = _ticket("T-naive", on_site_at="2026-11-26T10:00:00")
    assert client.post("/tickets", json=body, headers=key_for("dispatcher")).status_code == 422


def test_driver_is_forbidden(client: TestClient, key_for: KeyMaker) -> None:
    """A driver's key may neither open nor read tickets."""
    driver = key_for("driver", "T01")
    assert client.post("/tickets", json=_ticket("T-d"), headers=driver).status_code == 403
    assert client.get("/tickets", headers=driver).status_code == 403


def test_a_body_without_the_place_fields_hashes_as_before_they_existed() -> None:
    """A retry of a ticket stored before the place fields were added still matches it."""
    body = TicketCreate.model_validate(_ticket("T-old"))
    later = {*LATER_FIELDS, "area"}
    before = {k: v for k, v in body.model_dump(mode="json").items() if k not in later}
    assert payload_hash(body) == digest(before)
    placed = TicketCreate.model_validate(_ticket("T-old", address="建设路1号", lat=30.6, lon=104.1))
    assert payload_hash(placed) != payload_hash(body)

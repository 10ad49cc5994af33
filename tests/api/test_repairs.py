"""Take-back repairs: the numbered receipt, the register's steps in order as ledger entries,
the repair card, the supervisor's inspection, the routed return visit and the signed return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import PNG
from plan_helpers import DAY, app_at, engine_of
from repair_helpers import (
    ON_SITE,
    TECHNICIAN,
    Visited,
    add_technician,
    at,
    created,
    publish,
    take_back_body,
    visit,
    write,
)
from sqlmodel import Session, col, func, select

from api.core.config import ServiceSettings
from api.records.audit import verify
from api.records.kinds import REGISTER, Kind
from api.records.models import LedgerEntry
from api.repairs.models import TakeBack

NEXT = DAY + dt.timedelta(days=1)
RETURN_DAY = DAY + dt.timedelta(days=3)
CARD = {
    "labour_hours": 1.5,
    "parts": [{"code": "MOTOR-HOOD", "name": "风机电机", "quantity": 1}],
    "work_done": "更换风机电机, 通电试机正常",
}


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service three days before DAY, when the ticket's visit is booked."""
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def visited(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> Visited:
    """TK-9's visit on DAY, its report signed by the customer: the goods may be taken back."""
    depot = {"code": "WH", "name": "仓", "lat": 30.66, "lon": 104.06}
    created(client.post("/depots", json=depot, headers=admin))
    add_technician(client, admin, "WH")
    return visit(client, settings, key_for)


def taken(settings: ServiceSettings, visited: Visited, key: str = "") -> Any:
    with app_at(settings, ON_SITE) as day:
        return write(day, "/repairs", take_back_body(visited), visited.technician, key)


def step(
    settings: ServiceSettings,
    moment: dt.datetime,
    take_back_id: int,
    name: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> Any:
    with app_at(settings, moment) as day:
        return write(day, f"/repairs/{take_back_id}/{name}", body, headers)


def register_entries(client: TestClient) -> list[LedgerEntry]:
    with Session(engine_of(client)) as session:
        query = select(LedgerEntry).where(col(LedgerEntry.kind).in_(REGISTER))
        return list(session.exec(query.order_by(col(LedgerEntry.id))))


def returned_on_the_visit(
    settings: ServiceSettings, visited: Visited, goods: dict[str, Any]
) -> Any:
    """T01 on RETURN_DAY: leaves, arrives at the return visit, the customer signs; the return."""
    moment = at(RETURN_DAY, "14:00")
    gps = {"at": moment.isoformat(), "lat": 30.67, "lon": 104.08}
    report = {
        **gps,
        "work_done": "送还修好的抽油烟机, 安装试机 / repaired hood returned and tested",
        "satisfaction": 5,
        "signer_name": "李四",
        "signature_png": PNG,
    }
    base = f"/handover/{RETURN_DAY}"
    with app_at(settings, moment) as day:
        created(write(day, f"{base}/routes/{TECHNICIAN}/depart", gps, visited.technician))
        created(write(day, f"{base}/stops/ticket-TK-9-2/arrive", gps, visited.technician))
        path = f"{base}/stops/ticket-TK-9-2/service-report"
        signed = created(write(day, path, report, visited.technician))
        body = {"service_report_id": signed["id"], "receipt_returned": True, **gps}
        back = write(day, f"/repairs/{goods['id']}/return", body, visited.technician)
    return signed, back


def test_the_take_back_cycle_from_receipt_to_the_signed_return(
    client: TestClient, settings: ServiceSettings, visited: Visited
) -> None:
    """Receipt to signed return: each step a ledger entry in order, receipt closed, charged."""
    goods = created(taken(settings, visited))
    assert (goods["receipt_no"], goods["status"]) == ("MAIN-2026-000001", "in")
    assert (goods["customer_name"], goods["vehicle_code"]) == ("李四", TECHNICIAN)
    repaired = created(
        step(
            settings,
            at(NEXT, "09:00"),
            goods["id"],
            "repair-card",
            {**CARD, "at": at(NEXT, "09:00").isoformat()},
            visited.technician,
        )
    )
    assert (repaired["status"], repaired["labour_hours"]) == ("repaired", 1.5)
    inspection = {"passed": True, "note": "试机正常", "at": at(NEXT, "16:00").isoformat()}
    created(step(settings, at(NEXT, "16:00"), goods["id"], "inspection", inspection, visited.boss))
    chosen = {"on_site_at": at(RETURN_DAY, "14:00").isoformat()}
    booked = created(
        step(settings, at(NEXT, "16:30"), goods["id"], "return-visit", chosen, visited.boss)
    )
    assert booked["status"] == "return_booked"
    plan = publish(client, RETURN_DAY, visited.boss)
    stops = {s["external_id"]: (r["vehicle_code"], s) for r in plan["routes"] for s in r["stops"]}
    vehicle, stop = stops["ticket-TK-9-2"]
    assert vehicle == TECHNICIAN and "13:30" <= stop["start"] <= "14:30", stop
    signed, back = returned_on_the_visit(settings, visited, goods)
    out = created(back)
    assert (out["status"], out["receipt_closed"], out["returned_on"]) == (
        "out",
        True,
        RETURN_DAY.isoformat(),
    )
    assert out["charge_fen"] == 1.5 * 80 * 100 + 260 * 100  # labour at 80 CNY/h, the motor
    entries = register_entries(client)
    assert [e.kind for e in entries] == list(REGISTER)
    assert [e.date for e in entries] == [DAY, NEXT, NEXT, NEXT, RETURN_DAY]
    assert {e.payload["receipt_no"] for e in entries} == {"MAIN-2026-000001"}
    assert entries[-1].payload["charge"]["amount_fen"] == out["charge_fen"]
    assert out["entries"] == {e.kind: e.id for e in entries}
    with Session(engine_of(client)) as session:
        assert verify(session) == []
    with app_at(settings, at(RETURN_DAY, "18:00")) as later:
        assert later.get("/repairs/register", headers=visited.boss).json() == []
        every = later.get("/repairs/register", params={"status": "all"}, headers=visited.boss)
        (row,) = every.json()
        assert (row["status"], row["age_days"], row["overdue"]) == ("out", 3, False)
    close = {"tested": True, "site_cleaned": True, "service_report_id": signed["id"]}
    closed = client.post(f"/tickets/{visited.ticket_id}/close", json=close, headers=visited.boss)
    assert closed.status_code == 200 and closed.json()["visits"] == 2, closed.text


def test_a_retry_returns_the_same_receipt(
    client: TestClient, settings: ServiceSettings, visited: Visited
) -> None:
    """A retried take-back or step is stored once (201, then 200); a new key, a new number."""
    first = created(taken(settings, visited, key="take-back-1"))
    again = taken(settings, visited, key="take-back-1")
    assert again.status_code == 200 and again.json()["receipt_no"] == first["receipt_no"]
    second = created(taken(settings, visited))
    assert second["receipt_no"] == "MAIN-2026-000002"
    moment = at(NEXT, "09:00")
    card = {**CARD, "at": moment.isoformat()}
    with app_at(settings, moment) as day:
        path = f"/repairs/{first['id']}/repair-card"
        assert write(day, path, card, visited.technician, "repair-card-1").status_code == 201
        retried = write(day, path, card, visited.technician, "repair-card-1")
        assert retried.status_code == 200 and retried.json()["status"] == "repaired"
        other = write(day, path, {**card, "labour_hours": 2}, visited.technician, "repair-card-1")
        assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    kinds = [e.kind for e in register_entries(client)]
    assert kinds == [Kind.GOODS_IN, Kind.GOODS_IN, Kind.REPAIR_CARD]


def test_the_ticket_stays_open_while_its_goods_are_held(
    client: TestClient, settings: ServiceSettings, visited: Visited
) -> None:
    """Closing the ticket with the take-back visit's report is a 409 until the goods are back."""
    goods = created(taken(settings, visited))
    close = {"tested": True, "site_cleaned": True, "service_report_id": visited.report_id}
    refused = client.post(f"/tickets/{visited.ticket_id}/close", json=close, headers=visited.boss)
    assert refused.status_code == 409, refused.text
    assert (
        refused.json()["rule"] == "goods_held" and goods["receipt_no"] in refused.json()["detail"]
    )
    assert client.get(f"/tickets/{visited.ticket_id}", headers=visited.boss).json()["status"] == (
        "assigned"
    )


@pytest.mark.parametrize(
    ("name", "body", "who"),
    [
        ("inspection", {"passed": True}, "boss"),  # nothing repaired yet
        ("return-visit", {"on_site_at": at(RETURN_DAY, "14:00").isoformat()}, "boss"),
        (
            "return",
            {"service_report_id": 1, "receipt_returned": True, "lat": 30.6, "lon": 104.0},
            "technician",
        ),
    ],
)
def test_a_step_out_of_order_is_refused_and_stores_nothing(
    client: TestClient,
    settings: ServiceSettings,
    visited: Visited,
    name: str,
    body: dict[str, Any],
    who: str,
) -> None:
    """Goods just taken in are not inspected, booked back or returned: 409 naming the rule."""
    goods = created(taken(settings, visited))
    moment = at(NEXT, "10:00")
    body = {**body, "at": moment.isoformat()} if name != "return-visit" else body
    refused = step(settings, moment, goods["id"], name, body, getattr(visited, who))
    assert refused.status_code == 409, refused.text
    assert (refused.json()["rule"], refused.json()["field"]) == ("register_order", "status")
    assert [e.kind for e in register_entries(client)] == [Kind.GOODS_IN]
    shown = client.get(f"/repairs/{goods['id']}", headers=visited.boss).json()
    assert shown["status"] == "in" and list(shown["entries"]) == ["goods_in"]


def test_the_repairer_never_inspects(
    client: TestClient, settings: ServiceSettings, visited: Visited, admin: dict[str, str]
) -> None:
    """The key that wrote the repair card is refused the inspection (403 naming the rule)."""
    goods = created(taken(settings, visited))
    moment = at(NEXT, "10:00")
    card = {**CARD, "at": moment.isoformat()}
    created(step(settings, moment, goods["id"], "repair-card", card, admin))
    inspection = {"passed": True, "at": moment.isoformat()}
    refused = step(settings, moment, goods["id"], "inspection", inspection, admin)
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "inspector_not_repairer"
    by_role = step(settings, moment, goods["id"], "inspection", inspection, visited.technician)
    assert by_role.status_code == 403
    assert client.get(f"/repairs/{goods['id']}", headers=admin).json()["status"] == "repaired"
    assert [e.kind for e in register_entries(client)] == [Kind.GOODS_IN, Kind.REPAIR_CARD]


def test_a_failed_inspection_sends_the_goods_back_to_repair(
    client: TestClient, settings: ServiceSettings, visited: Visited
) -> None:
    """Failed, the goods are in again: a second repair card, then a passed inspection."""
    goods = created(taken(settings, visited))
    moment = at(NEXT, "10:00")
    card = {**CARD, "at": moment.isoformat()}
    for passed, status in ((False, "in"), (True, "inspected")):
        created(step(settings, moment, goods["id"], "repair-card", card, visited.technician))
        inspection = {"passed": passed, "note": "", "at": moment.isoformat()}
        shown = created(step(settings, moment, goods["id"], "inspection", inspection, visited.boss))
        assert shown["status"] == status


@pytest.mark.parametrize(
    ("report", "status", "rule"),
    [
        ("arrival", 422, "customer_signature"),  # the arrival record is no signed report
        ("elsewhere", 422, "own_visit"),  # signed at another ticket's visit
    ],
)
def test_a_take_back_needs_the_customers_signature_on_the_visits_report(
    client: TestClient,
    settings: ServiceSettings,
    visited: Visited,
    report: str,
    status: int,
    rule: str,
) -> None:
    """Without the customer's signed report of this visit no receipt is issued."""
    with Session(engine_of(client)) as session:
        if report == "arrival":
            query = select(LedgerEntry.id).where(LedgerEntry.kind == Kind.ARRIVED)
        else:
            query = select(LedgerEntry.id).where(LedgerEntry.kind == Kind.SERVICE_REPORT)
        entry_id = session.exec(query).one()
    if report == "elsewhere":
        other = client.post(
            "/tickets",
            json={"external_id": "TK-10", "category": "repair", "area": "main"},
            headers=visited.boss,
        ).json()
        body = take_back_body(visited, ticket_id=other["id"], service_report_id=entry_id)
    else:
        body = take_back_body(visited, service_report_id=entry_id)
    with app_at(settings, ON_SITE) as day:
        refused = write(day, "/repairs", body, visited.technician)
    assert refused.status_code == status, refused.text
    assert (refused.json()["field"], refused.json()["rule"]) == ("service_report_id", rule)
    assert register_entries(client) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"product": "x" * 201}, "product"),
        ({"fault": "x" * 1001}, "fault"),
        ({"condition": "x" * 501}, "condition"),
        ({"fault": ""}, "fault"),
    ],
)
def test_texts_on_the_receipt_have_size_limits(
    client: TestClient,
    settings: ServiceSettings,
    visited: Visited,
    change: dict[str, Any],
    field: str,
) -> None:
    """A text past its limit is a 422 naming the field; no receipt number is used up."""
    with app_at(settings, ON_SITE) as day:
        refused = write(day, "/repairs", take_back_body(visited, **change), visited.technician)
    assert refused.status_code == 422 and refused.json()["field"] == field
    with Session(engine_of(client)) as session:
        assert session.exec(select(func.count()).select_from(TakeBack)).one() == 0


def test_the_register_ages_the_goods_and_the_board_lists_the_overdue(
    client: TestClient, settings: ServiceSettings, visited: Visited, key_for: KeyMaker
) -> None:
    """15 days after DAY the goods are 15 days old, not overdue; at 16 the board lists them."""
    goods = created(taken(settings, visited))
    assert settings.goods_overdue_days == 15
    for days, overdue in ((15, False), (16, True)):
        with app_at(settings, at(DAY + dt.timedelta(days=days), "09:00")) as later:
            (row,) = later.get("/repairs/register", headers=visited.boss).json()
            assert (row["receipt_no"], row["age_days"], row["overdue"]) == (
                goods["receipt_no"],
                days,
                overdue,
            )
            csv = later.get("/repairs/register.csv", headers=visited.boss).text
            assert f"{goods['receipt_no']},main,李四,抽油烟机 CXW-200,in,{DAY},{days}," in csv
            key = visited.boss["Authorization"].removeprefix("Bearer ")
            assert later.post("/session", json={"key": key}).status_code == 200
            page = later.get("/app/board").text
            assert ('id="overdue-goods"' in page) is overdue
            if overdue:
                assert f'data-receipt="{goods["receipt_no"]}"' in page and ">16</td>" in page


def test_the_receipt_prints_the_stores_wording(
    client: TestClient, settings: ServiceSettings, visited: Visited
) -> None:
    """The receipt shows its number and the rules' wording, and escapes what was typed."""
    with app_at(settings, ON_SITE) as day:
        body = take_back_body(visited, accessories="<script>x</script>")
        goods = created(write(day, "/repairs", body, visited.technician))
        page = day.get(f"/repairs/{goods['id']}/receipt.html", headers=visited.technician).text
    assert "客户商品领取收据" in page and goods["receipt_no"] in page
    assert "送还商品时请将本收据交还技术员" in page
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_a_register_entry_is_never_corrected(
    client: TestClient, settings: ServiceSettings, visited: Visited
) -> None:
    """The goods_in record cannot be rewritten through the corrections route (append only)."""
    goods = created(taken(settings, visited))
    entry_id = goods["entries"]["goods_in"]
    body = {"reason": "typo", "changes": {"product": "别的商品"}}
    with app_at(settings, ON_SITE) as day:
        path = f"/handover/{DAY}/records/{entry_id}/corrections"
        refused = write(day, path, body, visited.technician)
    assert refused.status_code == 422 and refused.json()["rule"] == "append_only"
    assert [e.kind for e in register_entries(client)] == [Kind.GOODS_IN]

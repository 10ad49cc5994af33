"""Paid and free service: the warranty, the quote from the price list, a manager's discount
or waiver, the fee collected on site into the day's chain, and its same-day reconciliation."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from fee_helpers import (
    AFTERNOON,
    FEE,
    FREE,
    PAID,
    TECHNICIAN,
    D,
    arrive,
    at_tk1,
    collection,
    fee,
    fee_day,
    report,
)
from plan_helpers import app_at, engine_of
from pydantic import ValidationError
from sqlmodel import Session, col, func, select
from test_ticket_visits import ON_SITE

from api.core.config import ServiceSettings
from api.records.audit import verify
from api.records.models import LedgerEntry
from api.tickets.models import Ticket, TicketCategory
from api.tickets.warranty import warranty_until

AT = ON_SITE.isoformat()


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service three days before DAY, as when tickets are answered and visits booked."""
    with app_at(settings) as test_client:
        yield test_client


def _day(
    client: TestClient, admin: dict[str, str], key_for: KeyMaker, tickets: dict[str, Any]
) -> tuple[dict[str, int], dict[str, str]]:
    """The tickets published on T01's DAY: their ids, and the technician's key."""
    return fee_day(client, admin, key_for("dispatcher"), tickets), key_for("driver", "T01")


def _stored(client: TestClient, kind: str) -> int:
    with Session(engine_of(client)) as session:
        query = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == kind)
        return session.exec(query).one()


def test_a_ticket_knows_its_warranty(client: TestClient, key_for: KeyMaker) -> None:
    """Purchase date + 36 months of sanitary ware, judged on the agreed on-site day."""
    boss = key_for("dispatcher")
    body = {"external_id": "TK-W", "category": "repair", **PAID}
    body |= {"on_site_at": AT}
    opened = client.post("/tickets", json=body, headers=boss).json()
    assert (opened["warranty_until"], opened["under_warranty"]) == ("2026-01-10", False)
    changed = client.patch(f"/tickets/{opened['id']}", json=FREE, headers=boss).json()
    assert (changed["warranty_until"], changed["under_warranty"]) == ("2028-06-01", True)
    unknown = client.patch(f"/tickets/{opened['id']}", json={"product_type": "yacht"}, headers=boss)
    assert unknown.status_code == 422 and unknown.json()["field"] == "product_type"
    future = client.patch(
        f"/tickets/{opened['id']}", json={"purchase_date": "2030-01-01"}, headers=boss
    )
    assert future.status_code == 422 and future.json()["field"] == "purchase_date"


def test_a_fee_out_of_warranty_is_labour_plus_parts(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Repair labour ¥120 + cartridge ¥60 + 2 seals ¥16 = ¥196, collected in cash on board."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    params = {"parts": ["CARTRIDGE", "SEAL:2"]}
    quote = client.get(f"/tickets/{ids['TK-1']}/quote", params=params, headers=technician).json()
    assert (quote["labour_cny"], quote["parts_cny"], quote["total_cny"]) == (120.0, 76.0, FEE)
    assert quote["under_warranty"] is False and "warranty ended 2026-01-10" in quote["reason"]
    with at_tk1(settings, technician) as day:
        collected = fee(day, ids["TK-1"], "collection", collection(FEE), technician)
        on_board = day.get(f"/cash/{D}/on-board/T01", headers=technician).json()
    assert collected.status_code == 201, collected.text
    shown = collected.json()
    assert (shown["amount_cny"], shown["quote_cny"], shown["discount_cny"]) == (FEE, FEE, 0.0)
    assert (on_board["cash_on_board_cny"], on_board["fee_cash_cny"]) == (FEE, FEE)


def test_a_repair_under_warranty_is_free(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Under warranty labour and parts are 0, and there is nothing to collect."""
    ids, technician = _day(client, admin, key_for, {"TK-1": FREE})
    quote = client.get(f"/tickets/{ids['TK-1']}/quote?parts=SEAL:2", headers=technician).json()
    assert (quote["total_cny"], quote["parts"][0]["line_cny"]) == (0.0, 0.0)
    assert "under warranty until 2028-06-01" in quote["reason"]
    with at_tk1(settings, technician) as day:
        refused = fee(day, ids["TK-1"], "collection", collection(FEE), technician)
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["rule"]) == ("amount_cny", "nothing_due")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("parts=GOLD:1", "parts"),  # not on the price list
        ("parts=SEAL:0", "parts"),  # not a quantity
        ("on=2026-13-01", "on"),  # not a date
    ],
)
def test_a_quote_of_bad_parts_names_the_field(
    client: TestClient, admin: dict[str, str], key_for: KeyMaker, query: str, field: str
) -> None:
    """A part off the list or a bad count is a 422 naming it, never a 500."""
    boss = key_for("dispatcher")
    ids = fee_day(client, admin, boss, {"TK-1": PAID})
    answer = client.get(f"/tickets/{ids['TK-1']}/quote?{query}", headers=boss)
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_a_discount_or_waiver_without_approval_is_refused(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Less than the fee needs a manager's approval; a technician or dispatcher cannot give it."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    waiver = {"kind": "waiver", "reason": "老客户"}
    with at_tk1(settings, technician) as day:
        cheaper = fee(day, ids["TK-1"], "collection", collection(100.0), technician)
        by_technician = fee(day, ids["TK-1"], "approval", waiver, technician)
        by_dispatcher = fee(day, ids["TK-1"], "approval", waiver, key_for("dispatcher"))
    assert cheaper.status_code == 422
    assert (cheaper.json()["field"], cheaper.json()["rule"]) == (
        "amount_cny",
        "discount_needs_approval",
    )
    assert (by_technician.status_code, by_dispatcher.status_code) == (403, 403)
    assert _stored(client, "fee_approved") == _stored(client, "fee_collected") == 0


def test_a_managers_discount_is_recorded_with_approver_and_reason(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """The approval names the manager and the reason, is never changed, and lowers the fee."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    manager = key_for("manager")
    discount = {"kind": "discount", "discount_cny": 46, "reason": "等待配件超过一周"}
    with at_tk1(settings, technician) as day:
        approved = fee(day, ids["TK-1"], "approval", discount, manager, key="approval-1")
        retried = fee(day, ids["TK-1"], "approval", discount, manager, key="approval-1")
        changed = fee(day, ids["TK-1"], "approval", {**discount, "discount_cny": 96}, manager)
        corrected = day.post(
            f"/handover/{D}/records/{approved.json()['id']}/corrections",
            json={"reason": "more", "changes": {"discount_fen": 9600}},
            headers={**admin, "Idempotency-Key": uuid.uuid4().hex},
        )
        full = fee(day, ids["TK-1"], "collection", collection(FEE), technician)
        collected = fee(day, ids["TK-1"], "collection", collection(150.0, "transfer"), technician)
    assert approved.status_code == 201, approved.text
    shown = approved.json()
    assert (shown["approved_by"], shown["reason"], shown["discount_cny"]) == (
        "manager key",
        "等待配件超过一周",
        46.0,
    )
    assert (retried.status_code, retried.json()["id"]) == (200, shown["id"])
    assert changed.status_code == 409
    assert (corrected.status_code, corrected.json()["rule"]) == (422, "append_only")
    assert full.status_code == 422 and full.json()["rule"] == "amount_is_fee"
    assert collected.status_code == 201, collected.text
    assert (collected.json()["discount_cny"], collected.json()["approval_id"]) == (
        46.0,
        shown["id"],
    )


def test_a_technician_on_the_crew_cannot_approve_their_own_fee(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """A manager's key in the technician's own name is refused: no one approves their own."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    issued = client.post("/keys", json={"name": TECHNICIAN, "role": "manager"}, headers=admin)
    own = {"Authorization": f"Bearer {issued.json()['key']}"}
    with at_tk1(settings, technician) as day:
        refused = fee(day, ids["TK-1"], "approval", {"kind": "waiver", "reason": "x"}, own)
    assert refused.status_code == 403 and refused.json()["rule"] == "own_approval"


@pytest.mark.parametrize("amount", [200.0, 195.99])
def test_collecting_another_amount_is_refused_naming_amount(
    settings: ServiceSettings,
    client: TestClient,
    admin: dict[str, str],
    key_for: KeyMaker,
    amount: float,
) -> None:
    """Anything but the fee is a 422 naming amount_cny, and nothing is stored."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    manager = key_for("manager")
    with at_tk1(settings, technician) as day:
        if amount < FEE:  # an approved discount, and still a cent short of the rest
            discount = {"kind": "discount", "discount_cny": 0.5, "reason": "零头"}
            assert fee(day, ids["TK-1"], "approval", discount, manager).status_code == 201
        refused = fee(day, ids["TK-1"], "collection", collection(amount), technician)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["rule"]) == ("amount_cny", "amount_is_fee")
    assert _stored(client, "fee_collected") == 0


def test_cash_and_transfer_fees_land_in_the_chain(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """One fee in cash, one by transfer: both in the day's chain, which verifies; a retry
    stores nothing twice."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID, "TK-2": PAID})
    with at_tk1(settings, technician) as day:
        cash = fee(day, ids["TK-1"], "collection", collection(FEE), technician, key="fee-tk-1")
        again = fee(day, ids["TK-1"], "collection", collection(FEE), technician, key="fee-tk-1")
        twice = fee(day, ids["TK-1"], "collection", collection(FEE), technician)
        arrive(day, technician, "TK-2", AFTERNOON.isoformat())
        transfer = fee(
            day, ids["TK-2"], "collection", collection(120.0, "transfer", []), technician
        )
        on_board = day.get(f"/cash/{D}/on-board/T01", headers=technician).json()
    assert (cash.status_code, again.status_code, twice.status_code) == (201, 200, 409)
    assert transfer.status_code == 201, transfer.text
    assert (on_board["fee_cash_cny"], on_board["fee_transfer_cny"]) == (FEE, 120.0)
    assert on_board["cash_on_board_cny"] == FEE  # a transfer never rides on board
    with Session(engine_of(client)) as session:
        rows = session.exec(
            select(LedgerEntry)
            .where(LedgerEntry.kind == "fee_collected")
            .order_by(col(LedgerEntry.seq))
        ).all()
        assert [(r.payload["method"], r.payload["amount_fen"]) for r in rows] == [
            ("cash", 19600),
            ("transfer", 12000),
        ]
        assert verify(session, date=rows[0].date) == []


def _reconcile(day: TestClient, finance: dict[str, str]) -> dict[str, Any]:
    headers = {**finance, "Idempotency-Key": uuid.uuid4().hex}
    answer = day.post(f"/cash/{D}/reconciliation", headers=headers)
    assert answer.status_code == 201, answer.text
    crew: dict[str, Any] = next(c for c in answer.json()["crews"] if c["vehicle_code"] == "T01")
    return {"balanced": answer.json()["balanced"], **crew}


def test_fees_reconcile_the_same_day(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Fee cash not yet handed in and a paid visit left unpaid are mismatches; once the cash
    is handed to finance and the visit is paid, the day balances."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID, "TK-2": PAID})
    finance = key_for("finance")
    with at_tk1(settings, technician) as day:
        report(day, technician, "TK-1", AT)
        assert fee(day, ids["TK-1"], "collection", collection(FEE), technician).status_code == 201
        arrive(day, technician, "TK-2", AFTERNOON.isoformat())
        report(day, technician, "TK-2", AFTERNOON.isoformat())
        open_day = _reconcile(day, finance)
        paid = collection(120.0, "transfer", [])
        assert fee(day, ids["TK-2"], "collection", paid, technician).status_code == 201
        handed = {"vehicle_code": "T01", "amount_cny": FEE, "handed_by": TECHNICIAN}
        handed |= {"received_by": "财务李", "at": AFTERNOON.isoformat()}
        headers = {**finance, "Idempotency-Key": uuid.uuid4().hex}
        assert day.post(f"/cash/{D}/handovers", json=handed, headers=headers).status_code == 201
        closed_day = _reconcile(day, finance)
    assert open_day["balanced"] is False
    assert {m["code"] for m in open_day["mismatches"]} == {"left_on_board", "fee_not_collected"}
    assert (open_day["fee_cash_cny"], open_day["uncollected_fees"]) == (FEE, ["TK-2"])
    assert closed_day["balanced"] is True, closed_day["mismatches"]
    assert (closed_day["fee_cash_cny"], closed_day["fee_transfer_cny"]) == (FEE, 120.0)
    assert (closed_day["handed_over_cny"], closed_day["on_board_cny"]) == (FEE, 0.0)


def test_a_waived_fee_is_free_and_the_day_balances(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """After a manager's waiver nothing is collected, and the reported visit is not unpaid."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    waiver = {"kind": "waiver", "reason": "二次上门未修好"}
    with at_tk1(settings, technician) as day:
        approved = fee(day, ids["TK-1"], "approval", waiver, key_for("manager"))
        report(day, technician, "TK-1", AT)
        nothing = fee(day, ids["TK-1"], "collection", collection(FEE), technician)
        closed = _reconcile(day, key_for("finance"))
        work = day.get("/reports/technicians", params={"date": D}, headers=key_for("manager"))
    assert approved.status_code == 201 and approved.json()["discount_cny"] is None
    assert (nothing.status_code, nothing.json()["rule"]) == (422, "nothing_due")
    assert closed["balanced"] is True and closed["uncollected_fees"] == []
    (job,) = work.json()["technicians"][0]["job_list"]
    assert (job["charge"], job["approved_by"], job["fee_cny"]) == ("waived", "manager key", 0.0)


def test_a_ticket_without_its_warranty_card_is_not_quoted(
    client: TestClient, key_for: KeyMaker
) -> None:
    """No product type or purchase date: a 422 naming what is missing, never a guess."""
    boss = key_for("dispatcher")
    body = {"external_id": "TK-N", "category": "repair", "service_type": "repair"}
    opened = client.post("/tickets", json={**body, "on_site_at": AT}, headers=boss).json()
    assert (opened["warranty_until"], opened["under_warranty"]) == (None, None)
    answer = client.get(f"/tickets/{opened['id']}/quote", headers=boss)
    assert (answer.status_code, answer.json()["field"]) == (422, "product_type")
    client.patch(f"/tickets/{opened['id']}", json={"product_type": "cabinet"}, headers=boss)
    answer = client.get(f"/tickets/{opened['id']}/quote", headers=boss)
    assert (answer.status_code, answer.json()["field"]) == (422, "purchase_date")


@pytest.mark.parametrize(
    ("bought", "months", "last_day"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),  # no 31 February: to its last day
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),  # a leap day a year on
        (dt.date(2023, 11, 15), 36, dt.date(2026, 11, 15)),
    ],
)
def test_the_warranty_runs_its_months_from_the_purchase(
    bought: dt.date, months: int, last_day: dt.date
) -> None:
    """The warranty runs to the same date `months` later, or that month's last day."""
    settings = ServiceSettings(warranty_months={"sanitary": months})
    ticket = Ticket(
        external_id="TK",
        category=TicketCategory.REPAIR,
        product_type="sanitary",
        purchase_date=bought,
        payload_hash="",
        area_code="main",
        opened_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert warranty_until(ticket, settings) == last_day


def test_prices_and_months_out_of_range_are_refused_by_the_settings() -> None:
    """A negative price, a third decimal or a negative warranty is not a setting."""
    for bad in (
        {"parts": {"X": {"name": "x", "price_cny": "-1"}}},
        {"labour_cny": {"repair": "1.005"}},
        {"warranty_months": {"sanitary": -1}},
    ):
        with pytest.raises(ValidationError):
            ServiceSettings(**bad)


@pytest.mark.parametrize(("on", "total"), [("2026-01-10", 0.0), ("2026-01-11", 180.0)])
def test_the_warranty_is_judged_on_the_service_day(
    client: TestClient, admin: dict[str, str], key_for: KeyMaker, on: str, total: float
) -> None:
    """Free on the warranty's last day; the day after, repair labour ¥120 + cartridge ¥60."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    params = {"parts": "CARTRIDGE", "on": on}
    quote = client.get(f"/tickets/{ids['TK-1']}/quote", params=params, headers=technician)
    assert (quote.json()["on"], quote.json()["total_cny"]) == (on, total)


def test_a_cash_fee_keeps_to_the_cash_cap(
    settings: ServiceSettings, client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Under a ¥100 cap a ¥196 fee cannot be taken in cash, only by transfer."""
    ids, technician = _day(client, admin, key_for, {"TK-1": PAID})
    capped = settings.model_copy(update={"cash_cap_cny": 100})
    with at_tk1(capped, technician) as day:
        in_cash = fee(day, ids["TK-1"], "collection", collection(FEE), technician)
        by_transfer = fee(day, ids["TK-1"], "collection", collection(FEE, "transfer"), technician)
    assert (in_cash.status_code, in_cash.json()["rule"]) == (422, "cash_cap")
    assert by_transfer.status_code == 201, by_transfer.text

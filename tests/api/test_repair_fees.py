"""A take-back repair charged as paid service: the ticket's warranty on the return day, the
parts list's prices, the fee collected at the return visit and reconciled that day."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from plan_helpers import DAY, app_at
from repair_helpers import (
    ON_SITE,
    Visited,
    add_technician,
    at,
    created,
    publish,
    take_back_body,
    visit,
    write,
)
from test_repairs import CARD, NEXT, RETURN_DAY, returned_on_the_visit, step, taken

from api.core.config import ServiceSettings

# A range hood ("appliance", 12 months): bought 2025-03-01, its warranty ended 2026-03-01.
EXPIRED = {"product_type": "appliance", "purchase_date": "2025-03-01"}
# Bought 2026-01-05: under warranty until 2027-01-05, past the return day.
COVERED = {"product_type": "appliance", "purchase_date": "2026-01-05"}
CHARGE = 380.0  # 1.5 h at 80 CNY/h + one hood motor at 260 CNY


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service three days before DAY, when the ticket's visit is booked."""
    with app_at(settings) as test_client:
        yield test_client


def visited_with(
    client: TestClient,
    admin: dict[str, str],
    settings: ServiceSettings,
    key_for: KeyMaker,
    card: dict[str, str],
) -> Visited:
    """TK-9 with warranty card `card`, visited on DAY and its report signed."""
    depot = {"code": "WH", "name": "仓", "lat": 30.66, "lon": 104.06}
    created(client.post("/depots", json=depot, headers=admin))
    add_technician(client, admin, "WH")
    return visit(client, settings, key_for, place={**card, "lat": 30.67, "lon": 104.08})


def back_on_return_day(
    client: TestClient, settings: ServiceSettings, visited: Visited, **flag: bool
) -> dict[str, Any]:
    """Taken back on DAY, repaired and inspected NEXT, returned and signed on RETURN_DAY."""
    with app_at(settings, ON_SITE) as day:
        body = take_back_body(visited, **flag)
        goods = created(write(day, "/repairs", body, visited.technician))
    moment = at(NEXT, "09:00")
    card = {**CARD, "at": moment.isoformat()}
    created(step(settings, moment, goods["id"], "repair-card", card, visited.technician))
    passed = {"passed": True, "at": moment.isoformat()}
    created(step(settings, moment, goods["id"], "inspection", passed, visited.boss))
    chosen = {"on_site_at": at(RETURN_DAY, "14:00").isoformat()}
    created(step(settings, moment, goods["id"], "return-visit", chosen, visited.boss))
    publish(client, RETURN_DAY, visited.boss)
    _, back = returned_on_the_visit(settings, visited, goods)
    out: dict[str, Any] = created(back)
    return out


def collect(day: TestClient, visited: Visited, on: dt.date, **body: Any) -> Any:
    path = f"/fees/{on}/tickets/{visited.ticket_id}/collection"
    return write(day, path, {"method": "cash", **body}, visited.technician)


def reconcile(day: TestClient, on: dt.date, finance: dict[str, str]) -> dict[str, Any]:
    """The day's reconciliation, T01's crew in it."""
    headers = {**finance, "Idempotency-Key": uuid.uuid4().hex}
    answer = day.post(f"/cash/{on}/reconciliation", headers=headers)
    assert answer.status_code == 201, answer.text
    crew = next(c for c in answer.json()["crews"] if c["vehicle_code"] == "T01")
    return {"balanced": answer.json()["balanced"], **crew}


def test_a_paid_take_back_is_collected_and_reconciled_on_the_return_day(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Out of the ticket's warranty (whatever the flag says) the return states ¥380; only
    that amount is collected, and the return day balances once it is."""
    visited = visited_with(client, admin, settings, key_for, EXPIRED)
    out = back_on_return_day(client, settings, visited, under_warranty=True)
    assert (out["charge_fen"], out["under_warranty"]) == (38000, False)  # the ticket's card
    finance, later = key_for("finance"), at(RETURN_DAY, "15:00")
    with app_at(settings, later) as day:
        unpaid = reconcile(day, RETURN_DAY, finance)
        wrong = collect(day, visited, RETURN_DAY, amount_cny=379)
        with_parts = collect(
            day, visited, RETURN_DAY, amount_cny=CHARGE, parts=[{"code": "SEAL", "quantity": 1}]
        )
        paid = created(collect(day, visited, RETURN_DAY, amount_cny=CHARGE, method="transfer"))
        balanced = reconcile(day, RETURN_DAY, finance)
        work = day.get(
            "/reports/technicians", params={"date": str(RETURN_DAY)}, headers=key_for("manager")
        )
    assert unpaid["uncollected_fees"] == ["TK-9"] and unpaid["balanced"] is False
    assert (wrong.status_code, wrong.json()["field"]) == (422, "amount_cny")
    assert (with_parts.status_code, with_parts.json()["rule"]) == (422, "parts_on_repair_card")
    assert (paid["quote_cny"], paid["labour_cny"], paid["parts_cny"]) == (CHARGE, 120.0, 260.0)
    assert balanced["balanced"] is True and balanced["uncollected_fees"] == []
    (job,) = work.json()["technicians"][0]["job_list"]
    assert (job["order"], job["charge"], job["fee_cny"]) == ("ticket-TK-9-2", "paid", CHARGE)
    assert (job["collected_cny"], job["method"]) == (CHARGE, "transfer")
    assert [(p["code"], p["quantity"]) for p in job["parts"]] == [("MOTOR-HOOD", 1)]


def test_a_managers_discount_applies_to_the_return_charge(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """A manager's ¥80 off the repair: the technician collects ¥300, and only that."""
    visited = visited_with(client, admin, settings, key_for, EXPIRED)
    back_on_return_day(client, settings, visited)
    discount = {"kind": "discount", "discount_cny": 80, "reason": "返修等待过久"}
    with app_at(settings, at(RETURN_DAY, "15:00")) as day:
        path = f"/fees/{RETURN_DAY}/tickets/{visited.ticket_id}/approval"
        created(write(day, path, discount, key_for("manager")))
        full = collect(day, visited, RETURN_DAY, amount_cny=CHARGE)
        paid = created(collect(day, visited, RETURN_DAY, amount_cny=300))
    assert (full.status_code, full.json()["field"]) == (422, "amount_cny")
    assert (paid["quote_cny"], paid["discount_cny"], paid["amount_cny"]) == (CHARGE, 80.0, 300.0)


def test_a_take_back_under_warranty_by_purchase_date_returns_free(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Bought within 12 months of the return: charged nothing, nothing to collect, balanced."""
    visited = visited_with(client, admin, settings, key_for, COVERED)
    out = back_on_return_day(client, settings, visited, under_warranty=False)
    assert out["charge_fen"] == 0
    with app_at(settings, at(RETURN_DAY, "15:00")) as day:
        nothing = collect(day, visited, RETURN_DAY, amount_cny=CHARGE)
        closed = reconcile(day, RETURN_DAY, key_for("finance"))
    assert (nothing.status_code, nothing.json()["rule"]) == (422, "nothing_due")
    assert "under warranty until 2027-01-05" in nothing.json()["detail"]
    assert closed["balanced"] is True and closed["uncollected_fees"] == []


def test_the_take_back_visit_is_not_flagged_and_charges_nothing(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """The paid visit whose goods were taken back is charged at the return, not on DAY."""
    visited = visited_with(client, admin, settings, key_for, EXPIRED)
    finance = key_for("finance")
    with app_at(settings, ON_SITE) as day:
        before = reconcile(day, DAY, finance)
        created(write(day, "/repairs", take_back_body(visited), visited.technician))
        refused = collect(day, visited, DAY, amount_cny=120)
        after = reconcile(day, DAY, finance)
    assert before["uncollected_fees"] == ["TK-9"]  # paid and reported: unpaid, until taken back
    assert (refused.status_code, refused.json()["rule"]) == (422, "charged_on_return")
    assert after["uncollected_fees"] == [] and after["balanced"] is True


def test_repair_card_parts_off_the_parts_list_are_refused_naming_parts(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """A card naming a part the store's list has not is a 422 naming parts, nothing stored."""
    visited = visited_with(client, admin, settings, key_for, EXPIRED)
    goods = created(taken(settings, visited))
    moment = at(NEXT, "09:00")
    card = {**CARD, "parts": [{"code": "VALVE-CORE", "quantity": 1}], "at": moment.isoformat()}
    refused = step(settings, moment, goods["id"], "repair-card", card, visited.technician)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["rule"]) == ("parts", "known_part")
    assert "VALVE-CORE" in refused.json()["detail"]
    assert client.get(f"/repairs/{goods['id']}", headers=visited.boss).json()["status"] == "in"


@pytest.mark.parametrize(("flag", "due"), [(False, ["TK-9"]), (True, [])])
def test_without_a_warranty_card_the_receipts_reading_decides(
    client: TestClient,
    settings: ServiceSettings,
    admin: dict[str, str],
    key_for: KeyMaker,
    flag: bool,
    due: list[str],
) -> None:
    """A ticket with no product type or purchase date: the technician's flag says free or
    ¥380, and an uncollected charge is flagged on the return day all the same."""
    visited = visited_with(client, admin, settings, key_for, {})
    out = back_on_return_day(client, settings, visited, under_warranty=flag)
    with app_at(settings, at(RETURN_DAY, "15:00")) as day:
        unpaid = reconcile(day, RETURN_DAY, key_for("finance"))
    assert out["charge_fen"] == (0 if flag else 38000)
    assert unpaid["uncollected_fees"] == due

"""Corrections of money records: finance's alone, held to a new record's rules, accepted one
by one before the day balances; and no correction stores a field of another type."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import (
    AT,
    cash,
    collection,
    deliver,
    deposit,
    handover,
    on_the_day,
    published_day_database,
    record,
)
from plan_helpers import DAY, engine_of
from sqlmodel import Session

from api.auth.models import Role
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.records.audit import verify
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import NewEntry, append

RECONCILIATION = f"/cash/{DAY.isoformat()}/reconciliation"
WECHAT = "customer paid by WeChat"


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from on_the_day(settings)


def correct(
    client: TestClient, entry_id: int, changes: dict[str, Any], headers: dict[str, str]
) -> Any:
    body = {"reason": WECHAT, "changes": changes}
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    path = f"/handover/{DAY.isoformat()}/records/{entry_id}/corrections"
    return client.post(path, json=body, headers=headers)


def accept(client: TestClient, entry_id: int, headers: dict[str, str], key: str = "") -> Any:
    return cash(client, f"corrections/{entry_id}/accept", {}, headers, key)


def collected(client: TestClient, driver: dict[str, str], amount: float, method: str) -> int:
    """A collection at SO-03 (due ¥4,000, C01), the arrival recorded first; its id."""
    answer = cash(client, "collections", collection("SO-03", amount, method), driver)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def on_board(client: TestClient, headers: dict[str, str]) -> float:
    answer = client.get(f"/cash/{DAY.isoformat()}/on-board/C01", headers=headers)
    assert answer.status_code == 200, answer.text
    return float(answer.json()["cash_on_board_cny"])


def test_a_crews_day_cannot_relabel_its_cash(day: TestClient, key_for: KeyMaker) -> None:
    """C01 collects ¥4,000, banks ¥2,000 and tries to call ¥1,000 cash a transfer: refused,
    and the day is not balanced until the ¥1,000 still on board reaches finance."""
    driver, finance = key_for("driver", "C01"), key_for("finance")
    deliver(day, "SO-03")
    kept = collected(day, driver, 1000, "cash")
    collected(day, driver, 2000, "cash")
    collected(day, driver, 1000, "transfer")
    assert cash(day, "deposits", deposit(2000, ["张伟", "刘洋"]), driver).status_code == 201
    relabel = correct(day, kept, {"method": "transfer"}, driver)
    assert relabel.status_code == 403, relabel.text
    assert "finance corrects it" in relabel.json()["detail"]
    assert on_board(day, driver) == 1000
    table = cash(day, "reconciliation", {}, finance).json()
    assert not table["balanced"] and table["corrections"] == []
    assert [m["code"] for m in table["crews"][0]["mismatches"]] == ["left_on_board"]
    assert cash(day, "handovers", handover(1000), finance).status_code == 201
    assert cash(day, "reconciliation", {}, finance).json()["balanced"]


@pytest.mark.parametrize(
    ("collections", "target", "changes", "field", "rule"),
    [
        # a transfer relabelled as cash past C01's ¥1,500 cap: the cap a collection keeps to
        ([(1000, "cash"), (1000, "transfer")], 1, {"method": "cash"}, "amount_fen", "cash_cap"),
        # more than the ¥4,000 the order is due
        ([(1000, "cash")], 0, {"amount_fen": 400_001}, "amount_fen", "at_most_due"),
        # nothing is a collection of nothing
        ([(1000, "cash")], 0, {"amount_fen": 0}, "amount_fen", "record_fields"),
        # a cheque is neither cash nor a transfer
        ([(1000, "cash")], 0, {"method": "cheque"}, "method", "record_fields"),
    ],
)
def test_finance_corrects_a_collection_within_its_rules(
    day: TestClient,
    key_for: KeyMaker,
    admin: dict[str, str],
    collections: list[tuple[float, str]],
    target: int,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    """A correction by finance passes every rule a new collection passes, or is a 422."""
    patched = day.patch("/vehicles/C01", json={"cash_cap_cny": 1500}, headers=admin)
    assert patched.status_code == 200, patched.text
    driver, finance = key_for("driver", "C01"), key_for("finance")
    record(day, Kind.ARRIVED, "SO-03")
    ids = [collected(day, driver, amount, method) for amount, method in collections]
    refused = correct(day, ids[target], changes, finance)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json().get("rule")) == (field, rule)
    assert on_board(day, finance) == sum(a for a, m in collections if m == "cash")


@pytest.mark.parametrize(
    ("path", "changes", "field", "rule"),
    [
        # 陈静 rides C02 that day
        ("deposits", {"members": ["张伟", "陈静"]}, "members", "crew_members"),
        # more than the ¥1,000 on board
        ("deposits", {"amount_fen": 100_001}, "amount_fen", "at_most_on_board"),
        # handed over by someone on no crew
        ("handovers", {"handed_by": "路人甲"}, "handed_by", "crew_member"),
    ],
)
def test_finance_corrects_cash_paid_in_within_its_rules(
    day: TestClient,
    key_for: KeyMaker,
    path: str,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    """A corrected deposit or handover still names the crew and pays in no more than is on board."""
    driver, finance = key_for("driver", "C01"), key_for("finance")
    record(day, Kind.ARRIVED, "SO-03")
    collected(day, driver, 1000, "cash")
    body = deposit(500, ["张伟", "刘洋"]) if path == "deposits" else handover(500)
    paid_in = cash(day, path, body, driver if path == "deposits" else finance)
    assert paid_in.status_code == 201, paid_in.text
    refused = correct(day, paid_in.json()["id"], changes, finance)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["rule"]) == (field, rule)


@pytest.mark.parametrize(
    ("kind", "changes", "field"),
    [
        # an amount that is a list: every reader of cash would fail on it
        (Kind.COLLECTED, {"amount_fen": [1]}, "amount_fen"),
        # a method that is a number
        (Kind.COLLECTED, {"method": 1}, "method"),
        # a latitude that is text
        (Kind.ARRIVED, {"lat": "north"}, "lat"),
        # a device time that is a list
        (Kind.ARRIVED, {"at": ["09:00"]}, "at"),
    ],
)
def test_changes_keep_the_types_the_record_has(
    day: TestClient, key_for: KeyMaker, kind: Kind, changes: dict[str, Any], field: str
) -> None:
    """A correction whose change is of another type than the field recorded is a 422 naming it."""
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    if kind is Kind.COLLECTED:
        target, who = collected(day, driver, 1000, "cash"), key_for("finance")
    else:
        records = day.get(f"/handover/{DAY.isoformat()}/records", headers=driver).json()
        target, who = records[0]["id"], driver
    refused = correct(day, target, changes, who)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field


def test_a_corrected_money_record_waits_for_finance(day: TestClient, key_for: KeyMaker) -> None:
    """Listed in the reconciliation and not balanced until finance accepts it, once."""
    driver, finance = key_for("driver", "C01"), key_for("finance")
    deliver(day, "SO-03")
    paid = collected(day, driver, 4000, "cash")
    assert cash(day, "handovers", handover(4000), finance).status_code == 201
    fixed = correct(day, paid, {"amount_fen": 300_000, "method": "transfer"}, finance)
    assert fixed.status_code == 201, fixed.text
    again = correct(day, paid, {"amount_fen": 100_000}, finance)
    assert again.status_code == 422 and again.json()["rule"] == "latest_only"
    table = cash(day, "reconciliation", {}, finance).json()
    assert not table["balanced"]
    listed = table["corrections"]
    assert [(c["id"], c["corrects"], c["accepted_by"]) for c in listed] == [
        (fixed.json()["id"], paid, None)
    ]
    assert "correction_not_accepted" in [m["code"] for m in table["crews"][0]["mismatches"]]
    for other in (driver, key_for("dispatcher")):
        assert accept(day, fixed.json()["id"], other).status_code == 403
    assert accept(day, paid, finance).json()["rule"] == "money_correction"
    first = accept(day, fixed.json()["id"], finance, key="accept-correction-1")
    assert first.status_code == 201, first.text
    assert accept(day, fixed.json()["id"], finance, key="accept-correction-1").status_code == 200
    assert accept(day, fixed.json()["id"], finance).json()["rule"] == "accepted_once"
    settled = cash(day, "reconciliation", {}, finance).json()
    assert settled["corrections"][0]["accepted_by"] == "finance key"
    # ¥3,000 transferred and ¥4,000 handed over: finance now sees the ¥3,000 it never got
    assert [m["code"] for m in settled["crews"][0]["mismatches"]] == [
        "collected_not_expected",
        "paid_in_exceeds_collected",
    ]
    assert day.get(RECONCILIATION, headers=finance).json() == settled
    with Session(engine_of(day)) as session:
        assert verify(session, date=DAY) == []


def test_a_bad_correction_stored_earlier_breaks_no_reader(
    day: TestClient, key_for: KeyMaker
) -> None:
    """`"amount_fen": [1]`, as an older release stored it: every page answers, none balances,
    and finance corrects it rather than accepting it."""
    driver, finance = key_for("driver", "C01"), key_for("finance")
    deliver(day, "SO-03")
    paid = collected(day, driver, 4000, "cash")
    bad = store_correction(day, paid, {"amount_fen": [1], "method": "cash", "at": AT})
    assert on_board(day, driver) == 0
    table = cash(day, "reconciliation", {}, finance)
    assert table.status_code == 201, table.text
    assert not table.json()["balanced"] and table.json()["corrections"][0]["id"] == bad
    for path in (f"/reports/daily/{DAY.isoformat()}", f"/reports/daily/{DAY.isoformat()}.csv"):
        assert day.get(path, headers=finance).status_code == 200, path
    key = driver["Authorization"].removeprefix("Bearer ")
    assert day.post("/session", json={"key": key}).status_code == 200
    page = day.get("/app/driver", follow_redirects=False)
    assert page.status_code == 200 and 'id="cash-on-board"' in page.text
    refused = accept(day, bad, finance)
    assert refused.status_code == 422 and refused.json()["field"] == "amount_fen"
    fixed = correct(day, bad, {"amount_fen": 400_000}, finance)
    assert fixed.status_code == 201, fixed.text
    assert accept(day, fixed.json()["id"], finance).status_code == 201
    assert on_board(day, driver) == 4000


def store_correction(client: TestClient, original: int, payload: dict[str, Any]) -> int:
    """A correction written straight to the ledger by a crew, as an older release let it."""
    with Session(engine_of(client)) as session:
        first = session.get(LedgerEntry, original)
        assert first is not None
        entry = NewEntry(
            date=DAY,
            kind=first.kind,
            vehicle_code=first.vehicle_code,
            order_id=first.order_id,
            payload={**payload, "correction_reason": WECHAT},
            corrects=original,
        )
        stored, _ = append(
            session,
            principal=Principal(key_id=0, name="crew phone", role=Role.DRIVER, vehicle_code="C01"),
            idempotency_key=uuid.uuid4().hex,
            request={"kind": "correction", "entry": original},
            date=DAY,
            area="main",
            build=lambda _session: entry,
        )
        assert stored.id is not None
        return stored.id

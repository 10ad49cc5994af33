"""Cash on board: the cap, two-person bank deposits, handovers to finance and 日清日结."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import (
    ON_THE_DAY,
    cash,
    collection,
    deliver,
    deposit,
    handover,
    on_the_day,
    published_day_database,
    record,
)
from plan_helpers import DAY, app_at, engine_of
from sqlmodel import Session, col, func, select

from api.core.config import ServiceSettings
from api.records.kinds import Kind
from api.records.models import LedgerEntry

CASH_KINDS = (Kind.COLLECTED, Kind.DEPOSITED, Kind.HANDED_TO_FINANCE, Kind.RECONCILED)


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from on_the_day(settings)


def on_board(client: TestClient, headers: dict[str, str], vehicle: str = "C01") -> Any:
    return client.get(f"/cash/{DAY.isoformat()}/on-board/{vehicle}", headers=headers)


def stored(client: TestClient) -> int:
    with Session(engine_of(client)) as session:
        query = select(func.count()).where(col(LedgerEntry.kind).in_(CASH_KINDS))
        return int(session.exec(query).one())


def set_cap(client: TestClient, admin: dict[str, str], vehicle: str, cap: float) -> None:
    answer = client.patch(f"/vehicles/{vehicle}", json={"cash_cap_cny": cap}, headers=admin)
    assert answer.status_code == 200, answer.text


def test_cash_over_the_cap_is_refused_until_a_deposit(
    day: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """Over C01's ¥3,000 cap nothing is stored; after a bank deposit the same sum is taken."""
    set_cap(day, admin, "C01", 3000)
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    assert cash(day, "collections", collection("SO-03", 2500), driver).status_code == 201
    before = stored(day)
    refused = cash(day, "collections", collection("SO-03", 1500), driver)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "cash_cap" and refused.json()["field"] == "amount_cny"
    assert "cap of ¥3,000.00" in refused.json()["detail"]
    assert "deposit cash at a bank first" in refused.json()["detail"]
    assert stored(day) == before
    banked = cash(day, "deposits", deposit(2500, ["张伟", "刘洋"]), driver)
    assert banked.status_code == 201, banked.text
    assert banked.json()["members"] == ["张伟", "刘洋"] and banked.json()["amount_cny"] == 2500
    assert on_board(day, driver).json()["cash_on_board_cny"] == 0
    taken = cash(day, "collections", collection("SO-03", 1500), driver)
    assert taken.status_code == 201, taken.text
    assert on_board(day, driver).json() == {
        "date": DAY.isoformat(),
        "vehicle_code": "C01",
        "cash_on_board_cny": 1500.0,
        "cap_cny": 3000.0,
        "room_cny": 1500.0,
        "collected_cash_cny": 4000.0,
        "collected_transfer_cny": 0.0,
        "deposited_cny": 2500.0,
        "handed_over_cny": 0.0,
        "fee_cash_cny": 0.0,
        "fee_transfer_cny": 0.0,
    }


def test_the_default_cap_applies_and_transfers_never_count_against_it(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker, day: TestClient
) -> None:
    """C01 has no cap of its own: the settings' ¥50,000 applies; a transfer leaves it alone."""
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    assert on_board(day, driver).json()["cap_cny"] == settings.cash_cap_cny
    set_cap(day, admin, "C01", 1000)
    answer = cash(day, "collections", collection("SO-03", 4000, "transfer"), driver)
    assert answer.status_code == 201, answer.text
    assert answer.json()["method"] == "transfer" and answer.json()["order"] == "SO-03"
    figures = on_board(day, driver).json()
    assert figures["cash_on_board_cny"] == 0 and figures["collected_transfer_cny"] == 4000


def test_collection_before_arrival_is_refused(day: TestClient, key_for: KeyMaker) -> None:
    """Money is taken only at a stop the crew has recorded arriving at."""
    refused = cash(day, "collections", collection("SO-03", 100), key_for("driver", "C01"))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "arrival_first" and refused.json()["field"] == "order"
    assert stored(day) == 0


def test_collection_after_the_sign_off_is_refused(day: TestClient, key_for: KeyMaker) -> None:
    """The customer signed for what was collected; nothing more is taken afterwards."""
    deliver(day, "SO-03")
    record(day, Kind.SIGNED_OFF, "SO-03", amount_fen=0)
    refused = cash(day, "collections", collection("SO-03", 100), key_for("driver", "C01"))
    assert refused.status_code == 422 and refused.json()["rule"] == "before_sign_off"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        # more than the ¥4,000 the order is due
        (collection("SO-03", 4000.01), 422, "amount_cny"),
        # nothing to collect on an order with no cash
        (collection("SO-01", 1), 422, "amount_cny"),
        # a third decimal is not a sum of money
        (collection("SO-03", 10.005), 422, "amount_cny"),
        # zero and negative amounts
        (collection("SO-03", 0), 422, "amount_cny"),
        (collection("SO-03", -5), 422, "amount_cny"),
        # a cheque is neither cash nor a transfer
        (collection("SO-03", 10, "cheque"), 422, "method"),
        # a device time must carry its offset
        ({**collection("SO-03", 10), "at": "2026-11-27T09:00:00"}, 422, "at"),
        # an order the store never booked
        (collection("SO-99", 10), 404, None),
    ],
)
def test_bad_collections_are_refused_naming_the_field(
    day: TestClient, key_for: KeyMaker, body: dict[str, Any], status: int, field: str | None
) -> None:
    """Each refusal is a 4xx that names what is wrong, and stores nothing."""
    record(day, Kind.ARRIVED, "SO-01")
    record(day, Kind.ARRIVED, "SO-03")
    answer = cash(day, "collections", body, key_for("driver", "C01"))
    assert answer.status_code == status, answer.text
    error = answer.json()
    if field is not None:
        named = error.get("field") or error["detail"][0]["loc"][-1]
        assert named == field, error
    assert stored(day) == 0


def test_a_retried_collection_is_stored_once(day: TestClient, key_for: KeyMaker) -> None:
    """The same Idempotency-Key and body give back the stored record; a new body is 409."""
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    first = cash(day, "collections", collection("SO-03", 2500), driver, key="collect-so-03-a")
    again = cash(day, "collections", collection("SO-03", 2500.00), driver, key="collect-so-03-a")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert stored(day) == 1
    assert on_board(day, driver).json()["cash_on_board_cny"] == 2500
    clash = cash(day, "collections", collection("SO-03", 2000), driver, key="collect-so-03-a")
    assert clash.status_code == 409 and clash.json()["field"] == "Idempotency-Key"
    assert stored(day) == 1


@pytest.mark.parametrize(
    ("members", "rule"),
    [
        # one person alone at the bank
        (["张伟"], "two_people"),
        # the same person named twice
        (["张伟", "张伟"], "two_people"),
        # three people
        (["张伟", "刘洋", "陈静"], "two_people"),
        # 陈静 rides C02 that day, not C01
        (["张伟", "陈静"], "crew_members"),
        # someone on no crew at all
        (["张伟", "路人甲"], "crew_members"),
    ],
)
def test_a_deposit_needs_two_of_the_crew(
    day: TestClient, key_for: KeyMaker, members: list[str], rule: str
) -> None:
    """A bank deposit is made by exactly two different members of that crew that day."""
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    assert cash(day, "collections", collection("SO-03", 2500), driver).status_code == 201
    refused = cash(day, "deposits", deposit(1000, members), driver)
    assert refused.status_code == 422
    assert refused.json()["rule"] == rule and refused.json()["field"] == "members"
    assert on_board(day, driver).json()["deposited_cny"] == 0


def test_a_deposit_is_at_most_the_cash_on_board(day: TestClient, key_for: KeyMaker) -> None:
    """Transfers are not on board, so they cannot be banked as cash."""
    driver = key_for("driver", "C01")
    record(day, Kind.ARRIVED, "SO-03")
    assert cash(day, "collections", collection("SO-03", 500), driver).status_code == 201
    assert cash(day, "collections", collection("SO-03", 500, "transfer"), driver).status_code == 201
    refused = cash(day, "deposits", deposit(600, ["张伟", "刘洋"]), driver)
    assert refused.status_code == 422 and refused.json()["rule"] == "at_most_on_board"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        # collecting at another crew's stop
        ("post", "collections", collection("SO-03", 100)),
        # banking another crew's cash
        ("post", "deposits", deposit(100, ["张伟", "刘洋"])),
        # reading another crew's cash on board
        ("get", "on-board/C01", None),
    ],
)
def test_a_driver_of_another_crew_is_forbidden(
    day: TestClient, key_for: KeyMaker, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """A C02 driver neither writes nor reads C01's cash."""
    record(day, Kind.ARRIVED, "SO-03")
    other = key_for("driver", "C02")
    if method == "post":
        answer = cash(day, path, body or {}, other)
    else:
        answer = day.get(f"/cash/{DAY.isoformat()}/{path}", headers=other)
    assert answer.status_code == 403, answer.text
    assert stored(day) == 0


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        # finance records handovers but does not collect at the door
        ("finance", "collections", 403),
        # a dispatcher may record a collection the crew phoned in
        ("dispatcher", "collections", 201),
        # the warehouse handles goods, not money
        ("warehouse", "collections", 403),
        # only finance receives cash at the warehouse
        ("dispatcher", "handovers", 403),
        # a bank deposit is the crew's own
        ("dispatcher", "deposits", 403),
    ],
)
def test_who_may_write_which_cash_record(
    day: TestClient, key_for: KeyMaker, role: str, path: str, status: int
) -> None:
    """Each cash record has its own writers."""
    record(day, Kind.ARRIVED, "SO-03")
    body = {
        "collections": collection("SO-03", 100),
        "deposits": deposit(100, ["张伟", "刘洋"]),
        "handovers": handover(0),
    }[path]
    assert cash(day, path, body, key_for(role)).status_code == status


def test_a_handover_to_finance_lowers_the_cash_on_board(day: TestClient, key_for: KeyMaker) -> None:
    """Finance takes ¥1,000 from a crew member; more than is on board, or from a stranger, not."""
    driver, finance = key_for("driver", "C01"), key_for("finance")
    record(day, Kind.ARRIVED, "SO-03")
    assert cash(day, "collections", collection("SO-03", 2500), driver).status_code == 201
    taken = cash(day, "handovers", handover(1000), finance)
    assert taken.status_code == 201, taken.text
    assert taken.json()["handed_by"] == "张伟" and taken.json()["kind"] == "handed_to_finance"
    figures = on_board(day, finance).json()
    assert (figures["cash_on_board_cny"], figures["handed_over_cny"]) == (1500, 1000)
    too_much = cash(day, "handovers", handover(1500.01), finance)
    assert too_much.status_code == 422 and too_much.json()["rule"] == "at_most_on_board"
    stranger = cash(day, "handovers", handover(100, handed_by="陈静"), finance)
    assert stranger.status_code == 422 and stranger.json()["field"] == "handed_by"


def test_reconciliation_is_finance_only_and_flags_mismatches(
    day: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """C01 took ¥3,000 of ¥4,000 and kept ¥1,000 on board: flagged; C02 balances.

    Once the rest is transferred and the cash handed over, a new reconciliation balances
    and is the one returned.
    """
    driver, finance = key_for("driver", "C01"), key_for("finance")
    path = f"/cash/{DAY.isoformat()}/reconciliation"
    deliver(day, "SO-03")
    deliver(day, "SO-06")
    assert cash(day, "collections", collection("SO-03", 3000), driver).status_code == 201
    assert cash(day, "deposits", deposit(2000, ["张伟", "刘洋"]), driver).status_code == 201
    c02 = key_for("driver", "C02")
    assert cash(day, "collections", collection("SO-06", 800, "transfer"), c02).status_code == 201
    assert cash(day, "reconciliation", {}, driver).status_code == 403
    assert day.get(path, headers=finance).status_code == 404
    answer = cash(day, "reconciliation", {}, finance)
    assert answer.status_code == 201, answer.text
    table = answer.json()
    assert not table["balanced"]
    c01, c02_row = table["crews"]
    assert (c01["vehicle_code"], c02_row["vehicle_code"]) == ("C01", "C02")
    assert (c01["expected_cny"], c01["collected_cash_cny"], c01["deposited_cny"]) == (
        4000,
        3000,
        2000,
    )
    assert c01["on_board_cny"] == 1000
    assert [m["code"] for m in c01["mismatches"]] == ["collected_not_expected", "left_on_board"]
    assert c02_row["mismatches"] == [] and c02_row["collected_transfer_cny"] == 800
    assert table["total"]["expected_cny"] == 4800 and table["total"]["collected_cash_cny"] == 3000
    assert (
        cash(day, "collections", collection("SO-03", 1000, "transfer"), driver).status_code == 201
    )
    assert cash(day, "handovers", handover(1000), finance).status_code == 201
    settled = cash(day, "reconciliation", {}, finance).json()
    assert settled["balanced"] and settled["id"] != table["id"]
    assert day.get(path, headers=key_for("dispatcher")).json() == settled
    assert day.get(path, headers=driver).status_code == 403


def test_reconciliation_needs_a_published_plan(
    settings: ServiceSettings, key_for: KeyMaker
) -> None:
    """No plan published for the date: nothing to reconcile against, and nothing stored."""
    with app_at(settings, ON_THE_DAY) as client:
        answer = cash(client, "reconciliation", {}, key_for("finance"))
        assert answer.status_code == 404 and "no plan is published" in answer.json()["detail"]
        assert stored(client) == 0

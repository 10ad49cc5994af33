"""Exports: the dispatch sheet and the picking lists, as Excel-ready CSV and printable HTML."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from plan_helpers import (
    DAY,
    ORDERS,
    app_at,
    engine_of,
    if_match,
    routes_of,
    seed_day,
    store_plan,
)
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.orders.models import Order, OrderItem

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def plan_id(client: TestClient, admin: dict[str, str]) -> int:
    """The seeded day solved and stored as a draft at version 1."""
    seed_day(client, admin)
    return store_plan(client)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(BOM)  # so Excel reads the Chinese as UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_dispatch_sheet_csv_has_a_row_per_stop(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """One row per stop, in route order, with the customer, items and cash to collect."""
    answer = client.get(f"/plans/{plan_id}/dispatch-sheet.csv", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = csv_rows(answer.content)
    assert [(r["vehicle"], r["order"]) for r in rows] == [
        (vehicle, order)
        for vehicle, orders in routes_of(client, plan_id).items()
        for order in orders
    ]
    by_order = {row["order"]: row for row in rows}
    for order, (slot, customer, cash, _) in ORDERS.items():
        assert by_order[order]["customer"] == customer
        assert by_order[order]["cash_cny"] == f"{cash:.2f}"
        assert by_order[order]["slot"].startswith(slot)
    first = by_order["SO-01"]
    assert first["items"] == "1 × 三人沙发, 2 × 抱枕"
    assert (first["vehicle_name"], first["phone"]) == ("川A·12345", "13800138000")
    assert "张伟 (driver" in first["crew"] and "刘洋 (porter" in first["crew"]
    assert [r["stop"] for r in rows if r["vehicle"] == "C02"] == ["1", "2", "3"]


def test_dispatch_sheet_html_escapes_and_prints(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A customer named <b>x</b> is shown as text, not markup; the page has a print style."""
    answer = client.get(f"/plans/{plan_id}/dispatch-sheet.html", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "@media print" in page
    assert "川A·67890" in page and "陈静" in page and "¥4,000.00" in page
    assert "¥4,800.00 to collect" in page  # the day's total


def test_picking_list_loads_the_last_stop_first(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """Items come in reverse stop order, numbered in loading order, with a total per truck."""
    answer = client.get(f"/plans/{plan_id}/picking-lists.csv", headers=admin)
    assert answer.status_code == 200, answer.text
    rows = csv_rows(answer.content)
    routes = routes_of(client, plan_id)
    for vehicle, orders in routes.items():
        items = [r for r in rows if r["vehicle"] == vehicle and r["name"] != "total"]
        loaded = list(dict.fromkeys(row["order"] for row in items))
        assert loaded == orders[::-1]
        assert [int(r["stop"]) for r in items] == sorted(
            (int(r["stop"]) for r in items), reverse=True
        )
        assert [r["load"] for r in items] == [str(n) for n in range(1, len(items) + 1)]
        [total] = [r for r in rows if r["vehicle"] == vehicle and r["name"] == "total"]
        assert int(total["quantity"]) == sum(int(r["quantity"]) for r in items)
    wardrobes = next(r for r in rows if r["sku"] == "WARD-2")
    assert (wardrobes["quantity"], wardrobes["weight_kg"]) == ("4", "400.00")


def test_picking_list_for_one_truck(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """?vehicle= narrows the list to one truck; a truck without a route is 404."""
    answer = client.get(f"/plans/{plan_id}/picking-lists.html?vehicle=C02", headers=admin)
    assert answer.status_code == 200, answer.text
    assert "C02" in answer.text and "C01" not in answer.text and "床头柜" in answer.text
    missing = client.get(f"/plans/{plan_id}/picking-lists.csv?vehicle=C09", headers=admin)
    assert missing.status_code == 404


def test_dispatch_sheet_by_date_needs_a_published_plan(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """The date's sheet is the published plan's; with none published it is 404."""
    params = {"date": DAY.isoformat(), "format": "csv"}
    missing = client.get("/dispatch-sheet", params=params, headers=admin)
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"no plan is published for {DAY.isoformat()}"
    published = client.post(f"/plans/{plan_id}/publish", headers={**admin, **if_match(1)})
    assert published.status_code == 200, published.text
    answer = client.get("/dispatch-sheet", params=params, headers=admin)
    assert answer.status_code == 200, answer.text
    assert len(csv_rows(answer.content)) == len(ORDERS)
    page = client.get("/dispatch-sheet", params={"date": DAY.isoformat()}, headers=admin)
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    [
        "dispatch-sheet.csv",  # the crews' sheet for Excel
        "dispatch-sheet.html",  # the crews' sheet to print
        "picking-lists.csv",  # the warehouse's loading list for Excel
        "picking-lists.html",  # the warehouse's loading list to print
    ],
)
def test_warehouse_reads_exports_but_cannot_edit(
    client: TestClient, key_for: KeyMaker, plan_id: int, path: str
) -> None:
    """The warehouse prints every export; editing the plan is the dispatchers' job."""
    warehouse = key_for("warehouse")
    assert client.get(f"/plans/{plan_id}/{path}", headers=warehouse).status_code == 200
    move = {"order": "SO-04", "vehicle_code": "C01", "position": 1}
    edit = client.post(f"/plans/{plan_id}/moves", json=move, headers={**warehouse, **if_match(1)})
    assert edit.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/plans/{plan_id}/dispatch-sheet.csv",  # a plan's sheet
        "/plans/{plan_id}/picking-lists.html",  # a plan's loading list
        "/dispatch-sheet?date=2026-11-27",  # the date's published sheet
    ],
)
def test_driver_cannot_read_exports(
    client: TestClient, key_for: KeyMaker, plan_id: int, path: str
) -> None:
    """Drivers see their own route elsewhere, not every crew's customers and cash."""
    driver = key_for("driver", vehicle_code="C01")
    assert client.get(path.format(plan_id=plan_id), headers=driver).status_code == 403


def test_csv_exports_never_hand_a_spreadsheet_a_formula(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """A customer, an address and an item that start like formulas are written as text."""
    customer, address = '=HYPERLINK("http://evil.example","pay")', "+cmd|' /C calc'!A0"
    item = "@SUM(1+1)*cmd|' /C calc'!A0"
    with Session(engine_of(client)) as session:
        order = session.exec(select(Order).where(Order.external_id == "SO-03")).one()
        order.customer, order.address = customer, address
        line = session.exec(select(OrderItem).where(OrderItem.order_id == order.id)).first()
        assert line is not None
        line.name = item
        session.add_all([order, line])
        session.commit()
    sheet = csv_rows(client.get(f"/plans/{plan_id}/dispatch-sheet.csv", headers=admin).content)
    row = next(r for r in sheet if r["order"] == "SO-03")
    assert (row["customer"], row["address"]) == ("'" + customer, "'" + address)
    assert row["cash_cny"] == "4000.00"
    picked = csv_rows(client.get(f"/plans/{plan_id}/picking-lists.csv", headers=admin).content)
    assert "'" + item in [r["name"] for r in picked if r["order"] == "SO-03"]
    cells = [cell for r in sheet + picked for cell in r.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@")]

"""The fees in the daily report and the technician's daily work report (技术员工作日报表):
one paid visit in cash and one under warranty, figures checked by hand."""

from __future__ import annotations

import csv
import io
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
    collection,
    depart,
    fee,
    fee_day,
    report,
)
from plan_helpers import app_at
from test_ticket_visits import ON_SITE

from api.core.config import ServiceSettings

# TK-1: paid, 10:30 to 11:15 on site, ¥196 in cash. TK-2: under warranty, 14:00 to 14:40.
REPORTED_1 = ON_SITE.replace(hour=11, minute=15)
REPORTED_2 = AFTERNOON.replace(minute=40)


@pytest.fixture
def day(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """T01's day played: both visits reported, TK-1's fee collected; the service that evening."""
    with app_at(settings) as booking:
        boss = {"Authorization": admin["Authorization"]}
        ids = fee_day(booking, admin, boss, {"TK-1": PAID, "TK-2": FREE})
    with app_at(settings, REPORTED_2) as client:
        technician = key_for("driver", "T01")
        depart(client, technician)
        arrive(client, technician, "TK-1", ON_SITE.isoformat())
        report(client, technician, "TK-1", REPORTED_1.isoformat())
        assert (
            fee(client, ids["TK-1"], "collection", collection(FEE), technician).status_code == 201
        )
        arrive(client, technician, "TK-2", AFTERNOON.isoformat())
        report(client, technician, "TK-2", REPORTED_2.isoformat())
        yield client, ids


def test_the_daily_report_counts_fees_and_paid_and_free_visits(
    day: tuple[TestClient, dict[str, int]], key_for: KeyMaker
) -> None:
    """T01: ¥196 of fees in cash, on board until handed in; one paid visit, one free."""
    client, _ = day
    shown = client.get(f"/reports/daily/{D}", headers=key_for("finance")).json()
    t01 = next(crew for crew in shown["crews"] if crew["vehicle_code"] == "T01")
    assert (t01["fee_cash_cny"], t01["fee_transfer_cny"], t01["on_board_cny"]) == (FEE, 0.0, FEE)
    assert (t01["paid_visits"], t01["free_visits"]) == (1, 1)
    assert (shown["total"]["fee_cash_cny"], shown["total"]["paid_visits"]) == (FEE, 1)


def test_the_technician_report_lists_each_job_and_totals(
    day: tuple[TestClient, dict[str, int]], key_for: KeyMaker
) -> None:
    """Each job with its type, 45 and 40 minutes on site, parts and fee; T01's totals."""
    client, ids = day
    answer = client.get("/reports/technicians", params={"date": D}, headers=key_for("manager"))
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    (t01,) = shown["technicians"]
    assert (t01["vehicle_code"], t01["technicians"], t01["area_code"]) == (
        "T01",
        [TECHNICIAN],
        "main",
    )
    paid, free = t01["job_list"]
    assert (paid["ticket"], paid["ticket_id"], paid["service_type"]) == (
        "TK-1",
        ids["TK-1"],
        "repair",
    )
    assert (paid["minutes_on_site"], paid["charge"], paid["fee_cny"]) == (45, "paid", FEE)
    assert (paid["collected_cny"], paid["method"]) == (FEE, "cash")
    assert [(p["code"], p["quantity"]) for p in paid["parts"]] == [("CARTRIDGE", 1), ("SEAL", 2)]
    assert (free["minutes_on_site"], free["charge"], free["fee_cny"], free["method"]) == (
        40,
        "warranty",
        0.0,
        None,
    )
    totals = {k: t01[k] for k in ("jobs", "paid", "free", "minutes_on_site", "fee_cny")}
    assert totals == {"jobs": 2, "paid": 1, "free": 1, "minutes_on_site": 85, "fee_cny": FEE}
    assert (t01["collected_cash_cny"], t01["collected_transfer_cny"]) == (FEE, 0.0)
    assert shown["total"]["minutes_on_site"] == 85
    assert [area["area_code"] for area in shown["by_area"]] == ["main"]


def test_the_technician_report_as_csv(
    day: tuple[TestClient, dict[str, int]], key_for: KeyMaker
) -> None:
    """A row per job, T01's total row, and the report's total last."""
    client, _ = day
    params: dict[str, Any] = {"date": D, "format": "csv"}
    answer = client.get("/reports/technicians", params=params, headers=key_for("dispatcher"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [(r["vehicle"], r["ticket"]) for r in rows] == [
        ("T01", "TK-1"),
        ("T01", "TK-2"),
        ("T01", "total"),
        ("total", "total"),
    ]
    assert (rows[0]["parts"], rows[0]["fee_cny"], rows[0]["method"]) == (
        "CARTRIDGE×1; SEAL×2",
        "196.00",
        "cash",
    )
    assert (rows[2]["minutes_on_site"], rows[2]["collected_cny"]) == ("85", "196.00")

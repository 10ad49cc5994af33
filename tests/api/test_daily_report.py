"""送货日报表: a hand-checked day, as JSON and as CSV for Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient

# The cash tests' day and ledger helpers, so every file plays the same day the same way.
from ledger_helpers import on_the_day, play_the_day, published_day_database
from plan_helpers import DAY, app_at, engine_of, seed_day, store_plan
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.plans.models import PlanRoute

REPORT = f"/reports/daily/{DAY.isoformat()}"


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from on_the_day(settings)


def planned_km(client: TestClient) -> dict[str, float]:
    with Session(engine_of(client)) as session:
        routes = session.exec(select(PlanRoute)).all()
        return {route.vehicle_code: round(route.distance_m / 1000, 1) for route in routes}


# The figures of play_the_day, counted by hand; planned_km is the stored route's.
C01_ROW = {
    "vehicle_code": "C01",
    "vehicle_name": "川A·12345",
    "crew": ["张伟", "刘洋"],
    "planned_stops": 3,
    "delivered": 2,
    "partial": 1,
    "failed": 0,
    "failed_reasons": {},
    "not_reported": 0,
    "on_time": 2,
    "early": 0,
    "late": 1,
    "cash_expected_cny": 4000.0,
    "collected_cash_cny": 3000.0,
    "collected_transfer_cny": 1000.0,
    "deposited_cny": 2000.0,
    "handed_over_cny": 1000.0,
    "on_board_cny": 0.0,
    "fee_cash_cny": 0.0,
    "fee_transfer_cny": 0.0,
    "paid_visits": 0,
    "free_visits": 0,
}
C02_ROW = {
    **C01_ROW,
    "vehicle_code": "C02",
    "vehicle_name": "川A·67890",
    "crew": ["陈静"],
    "delivered": 0,
    "partial": 0,
    "failed": 2,
    "failed_reasons": {"customer_absent": 1, "refused": 1},
    "not_reported": 1,
    "on_time": 0,
    "early": 1,
    "late": 1,
    "cash_expected_cny": 0.0,  # SO-06 is not reported delivered yet
    "collected_cash_cny": 800.0,
    "collected_transfer_cny": 0.0,
    "deposited_cny": 0.0,
    "handed_over_cny": 0.0,
    "on_board_cny": 800.0,
}
TOTAL_ROW = {
    **C01_ROW,
    "vehicle_code": "total",
    "vehicle_name": "",
    "crew": [],
    "planned_stops": 6,
    "failed": 2,
    "failed_reasons": {"customer_absent": 1, "refused": 1},
    "not_reported": 1,
    "early": 1,
    "late": 2,
    "collected_cash_cny": 3800.0,
    "on_board_cny": 800.0,
}


def expected_rows(client: TestClient) -> dict[str, dict[str, Any]]:
    km = planned_km(client)
    return {
        "C01": {**C01_ROW, "planned_km": km["C01"]},
        "C02": {**C02_ROW, "planned_km": km["C02"]},
        "total": {**TOTAL_ROW, "planned_km": round(km["C01"] + km["C02"], 2)},
    }


def test_daily_report_figures(day: TestClient, key_for: KeyMaker) -> None:
    """Per crew and in total, the JSON report says what play_the_day did."""
    play_the_day(day, key_for)
    answer = day.get(REPORT, headers=key_for("dispatcher"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["date"] == DAY.isoformat() and report["timezone"] == "Asia/Shanghai"
    rows = expected_rows(day)
    assert report["crews"] == [rows["C01"], rows["C02"]]
    assert report["total"] == rows["total"]


@pytest.mark.parametrize(
    "path",
    [
        # the .csv address
        f"{REPORT}.csv",
        # the JSON address asked for CSV
        f"{REPORT}?format=csv",
    ],
)
def test_daily_report_csv(day: TestClient, key_for: KeyMaker, path: str) -> None:
    """A UTF-8 CSV with a byte-order mark, a row per crew and a total row, same figures."""
    play_the_day(day, key_for)
    answer = day.get(path, headers=key_for("finance"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"daily-report-{DAY.isoformat()}.csv" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [row["vehicle"] for row in rows] == ["C01", "C02", "total"]
    c01, c02, total = rows
    assert (c01["vehicle_name"], c01["crew"]) == ("川A·12345", "张伟; 刘洋")
    assert (c01["delivered"], c01["partial"], c01["on_time"], c01["late"]) == ("2", "1", "2", "1")
    assert c02["failed_reasons"] == "customer_absent: 1; refused: 1"
    assert (c02["not_reported"], c02["early"], c02["on_board_cny"]) == ("1", "1", "800.00")
    assert c01["planned_km"] == f"{expected_rows(day)['C01']['planned_km']:.1f}"
    assert (total["planned_stops"], total["failed"], total["late"]) == ("6", "2", "2")
    assert (total["cash_expected_cny"], total["collected_cash_cny"]) == ("4000.00", "3800.00")
    assert (total["deposited_cny"], total["handed_over_cny"]) == ("2000.00", "1000.00")


def test_an_untouched_day_is_all_not_reported(day: TestClient, key_for: KeyMaker) -> None:
    """Before any crew reports, every planned stop is not reported and no money moved."""
    total = day.get(REPORT, headers=key_for("finance")).json()["total"]
    assert (total["planned_stops"], total["not_reported"]) == (6, 6)
    assert total["on_time"] + total["early"] + total["late"] == 0
    assert total["cash_expected_cny"] == 0 and total["collected_cash_cny"] == 0


def test_no_published_plan_is_404(
    settings: ServiceSettings, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A stored but unpublished plan gives no report, as JSON or as CSV."""
    with app_at(settings) as client:  # as of the booking morning, three days ahead
        seed_day(client, admin)
        store_plan(client)
        for path in (REPORT, f"{REPORT}.csv"):
            answer = client.get(path, headers=key_for("dispatcher"))
            assert answer.status_code == 404 and "no plan is published" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("role", "vehicle", "status"),
    [
        # dispatchers and finance read the whole day
        ("dispatcher", None, 200),
        ("finance", None, 200),
        # a driver sees their own route, not every crew's figures
        ("driver", "C01", 403),
        # the warehouse has its picking lists instead
        ("warehouse", None, 403),
    ],
)
def test_who_may_read_the_report(
    day: TestClient, key_for: KeyMaker, role: str, vehicle: str | None, status: int
) -> None:
    """The daily report is for the office."""
    assert day.get(REPORT, headers=key_for(role, vehicle)).status_code == status


def test_a_bad_date_is_422(day: TestClient, key_for: KeyMaker) -> None:
    """The date in the address must be a date."""
    answer = day.get("/reports/daily/2026-13-40", headers=key_for("dispatcher"))
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["path", "date"]


def test_daily_report_csv_quotes_a_name_that_is_a_formula(
    day: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """A truck named like a formula is written as text; the amounts stay numbers."""
    name = "-cmd|' /C calc'!A0"
    renamed = day.patch("/vehicles/C01", json={"name": name}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    play_the_day(day, key_for)
    answer = day.get(f"{REPORT}.csv", headers=key_for("finance"))
    c01 = next(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert (c01["vehicle_name"], c01["on_board_cny"]) == ("'" + name, "0.00")

"""Delivery KPIs over a date range: hand-checked figures of a played day, as JSON and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import play_the_day, published_day, record
from plan_helpers import DAY, engine_of
from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.orders.models import Order
from api.records.kinds import Kind
from optimizer.data import VisitKind

WEEK = {
    "from": (DAY - dt.timedelta(days=3)).isoformat(),
    "to": (DAY + dt.timedelta(days=3)).isoformat(),
}


@pytest.fixture
def day(settings: ServiceSettings, admin: dict[str, str]) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from published_day(settings, admin)


def rate(numerator: int, denominator: int, value: float | None) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator, "rate": value}


def play_with_services(client: TestClient, key_for: KeyMaker) -> None:
    """play_the_day, with SO-03 (C01, delivered) and SO-05 (C02, failed) made install
    visits, and service reports scoring SO-01 5, SO-03 4 (C01) and SO-04 2 (C02)."""
    with Session(engine_of(client)) as session:
        installs = select(Order).where(col(Order.external_id).in_(["SO-03", "SO-05"]))
        for order in session.exec(installs):
            order.service_type = VisitKind.INSTALL
            session.add(order)
        session.commit()
    play_the_day(client, key_for)
    for order, score in (("SO-01", 5), ("SO-03", 4), ("SO-04", 2)):
        record(client, Kind.SERVICE_REPORT, order, satisfaction=score)


# play_the_day counted by hand (slots: morning 08–12, afternoon 13–18):
# C01 morning SO-01 on time, SO-02 late; afternoon SO-03 on time; delivered SO-01, SO-03,
#     SO-02 partial. C02 morning SO-04 early; afternoon SO-06 late, SO-05 no arrival;
#     SO-04 and SO-05 failed, SO-06 no outcome.
C01 = {
    "vehicle_code": "C01",
    "on_time_morning": rate(1, 2, 0.5),
    "on_time_afternoon": rate(1, 1, 1.0),
    "delivery_success": rate(2, 3, 0.6667),
    "satisfaction": {"count": 2, "total": 9, "average": 4.5},
    "installs_on_planned_date": rate(1, 1, 1.0),
}
C02 = {
    "vehicle_code": "C02",
    "on_time_morning": rate(0, 1, 0.0),
    "on_time_afternoon": rate(0, 1, 0.0),
    "delivery_success": rate(0, 2, 0.0),
    "satisfaction": {"count": 1, "total": 2, "average": 2.0},
    "installs_on_planned_date": rate(0, 1, 0.0),
}
TOTAL = {
    "vehicle_code": "total",
    "on_time_morning": rate(1, 3, 0.3333),
    "on_time_afternoon": rate(1, 2, 0.5),
    "delivery_success": rate(2, 5, 0.4),
    "satisfaction": {"count": 3, "total": 11, "average": 3.67},
    "installs_on_planned_date": rate(1, 2, 0.5),
}


def test_kpi_figures(day: TestClient, key_for: KeyMaker) -> None:
    """Over a week around the played day, per crew and in total, the hand-counted figures."""
    play_with_services(day, key_for)
    answer = day.get("/kpis", params=WEEK, headers=key_for("dispatcher"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["published_days"] == [DAY.isoformat()]
    assert (report["from_date"], report["to_date"]) == (WEEK["from"], WEEK["to"])
    assert "planned date" in report["install_basis"]
    assert report["crews"] == [C01, C02]
    assert report["total"] == TOTAL


def test_kpis_agree_with_the_daily_report(day: TestClient, key_for: KeyMaker) -> None:
    """The KPI counts of one day are the daily report's counts of that day."""
    play_the_day(day, key_for)
    headers = key_for("finance")
    daily = day.get(f"/reports/daily/{DAY.isoformat()}", headers=headers).json()["total"]
    one_day = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    total = day.get("/kpis", params=one_day, headers=headers).json()["total"]
    morning, afternoon = total["on_time_morning"], total["on_time_afternoon"]
    assert morning["numerator"] + afternoon["numerator"] == daily["on_time"]
    arrived = daily["on_time"] + daily["early"] + daily["late"]
    assert morning["denominator"] + afternoon["denominator"] == arrived
    assert total["delivery_success"]["numerator"] == daily["delivered"]
    with_outcome = daily["delivered"] + daily["partial"] + daily["failed"]
    assert total["delivery_success"]["denominator"] == with_outcome


def test_an_empty_range_is_zeros_and_nulls(day: TestClient, key_for: KeyMaker) -> None:
    """A range without a published plan has no crews, zero counts and no rates."""
    later = {"from": "2027-01-01", "to": "2027-01-31"}
    report = day.get("/kpis", params=later, headers=key_for("dispatcher")).json()
    assert report["published_days"] == [] and report["crews"] == []
    total = report["total"]
    for name in ("on_time_morning", "on_time_afternoon", "delivery_success"):
        assert total[name] == rate(0, 0, None)
    assert total["installs_on_planned_date"] == rate(0, 0, None)
    assert total["satisfaction"] == {"count": 0, "total": 0, "average": None}


def test_an_unplayed_day_has_no_rates(day: TestClient, key_for: KeyMaker) -> None:
    """Published but nothing reported yet: no arrivals, no outcomes, so every rate is null."""
    total = day.get("/kpis", params=WEEK, headers=key_for("finance")).json()["total"]
    assert total["delivery_success"] == rate(0, 0, None)
    assert total["on_time_morning"] == rate(0, 0, None)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        # from after to
        ("2026-11-28", "2026-11-27", "from"),
        # 367 days, one more than allowed
        ("2026-01-01", "2027-01-02", "to"),
    ],
)
def test_a_bad_range_is_422(
    day: TestClient, key_for: KeyMaker, start: str, end: str, field: str
) -> None:
    """A backwards or too long range is refused, naming the field, as JSON and CSV."""
    for path in ("/kpis", "/kpis.csv"):
        answer = day.get(path, params={"from": start, "to": end}, headers=key_for("finance"))
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field


@pytest.mark.parametrize(
    "params",
    [
        # not a date
        {"from": "2026-13-40", "to": "2026-11-27"},
        # to missing
        {"from": "2026-11-27"},
    ],
)
def test_a_malformed_query_is_422(
    day: TestClient, key_for: KeyMaker, params: dict[str, str]
) -> None:
    """Dates must be dates, and both ends are required."""
    answer = day.get("/kpis", params=params, headers=key_for("dispatcher"))
    assert answer.status_code == 422


def test_a_year_is_allowed(day: TestClient, key_for: KeyMaker) -> None:
    """366 days, a leap year's worth, is the longest range accepted."""
    year = {"from": "2026-01-01", "to": "2027-01-01"}
    assert day.get("/kpis", params=year, headers=key_for("dispatcher")).status_code == 200


@pytest.mark.parametrize(
    ("role", "vehicle", "status"),
    [
        # the office reads the KPIs
        ("dispatcher", None, 200),
        ("finance", None, 200),
        # a driver's key sees their own route only
        ("driver", "C01", 403),
        # the warehouse has no business with them
        ("warehouse", None, 403),
    ],
)
def test_who_may_read_the_kpis(
    day: TestClient, key_for: KeyMaker, role: str, vehicle: str | None, status: int
) -> None:
    """KPIs are for dispatchers and finance."""
    for path in ("/kpis", "/kpis.csv"):
        answer = day.get(path, params=WEEK, headers=key_for(role, vehicle))
        assert answer.status_code == status


def test_kpis_csv(day: TestClient, key_for: KeyMaker) -> None:
    """A UTF-8 CSV with a byte-order mark, a row per crew and a total row, same figures."""
    play_with_services(day, key_for)
    answer = day.get("/kpis.csv", params=WEEK, headers=key_for("finance"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"kpis-{WEEK['from']}-{WEEK['to']}.csv" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [row["vehicle"] for row in rows] == ["C01", "C02", "total"]
    total = rows[-1]
    assert (total["on_time_morning_numerator"], total["on_time_morning_denominator"]) == ("1", "3")
    assert total["on_time_morning_rate"] == "0.3333"
    assert (total["delivery_success_numerator"], total["delivery_success_rate"]) == ("2", "0.4000")
    assert (total["satisfaction_count"], total["satisfaction_average"]) == ("3", "3.67")
    assert rows[0]["installs_on_planned_date_rate"] == "1.0000"

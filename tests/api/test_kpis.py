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
from ledger_helpers import (
    on_the_day,
    play_the_day,
    published_day_database,
    record,
    stored_service_report,
)
from plan_helpers import DAY, ZONE, app_at, engine_of
from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.orders.models import Order
from api.records.kinds import Kind
from optimizer.data import VisitKind

WEEK = {
    "from": (DAY - dt.timedelta(days=3)).isoformat(),
    "to": (DAY + dt.timedelta(days=3)).isoformat(),
}


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from on_the_day(settings)


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
    "installs_within_window": rate(1, 1, 1.0),
}
C02 = {
    "vehicle_code": "C02",
    "on_time_morning": rate(0, 1, 0.0),
    "on_time_afternoon": rate(0, 1, 0.0),
    "delivery_success": rate(0, 2, 0.0),
    "satisfaction": {"count": 1, "total": 2, "average": 2.0},
    "installs_within_window": rate(0, 1, 0.0),
}
TOTAL = {
    "vehicle_code": "total",
    "on_time_morning": rate(1, 3, 0.3333),
    "on_time_afternoon": rate(1, 2, 0.5),
    "delivery_success": rate(2, 5, 0.4),
    "satisfaction": {"count": 3, "total": 11, "average": 3.67},
    "installs_within_window": rate(1, 2, 0.5),
}


def test_kpi_figures(day: TestClient, key_for: KeyMaker) -> None:
    """Over a week around the played day, per crew and in total, the hand-counted figures."""
    play_with_services(day, key_for)
    answer = day.get("/kpis", params=WEEK, headers=key_for("dispatcher"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["published_days"] == [DAY.isoformat()]
    assert (report["from_date"], report["to_date"]) == (WEEK["from"], WEEK["to"])
    assert "window" in report["install_basis"]
    assert report["crews"] == [C01, C02]
    assert report["total"] == TOTAL
    assert report["technicians"] == [] and report["tickets"]["opened"] == 0


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
    assert total["installs_within_window"] == rate(0, 0, None)
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
        # the first day there is: its local midnight is before year 1 in UTC
        ("0001-01-01", "0001-01-02", "from"),
        # the day before the earliest accepted
        ("1999-12-31", "2000-01-01", "from"),
        # the last day there is: the day after it cannot be written
        ("9999-12-30", "9999-12-31", "to"),
        # the day after the latest accepted
        ("2999-12-31", "3000-01-01", "to"),
    ],
)
def test_a_bad_range_is_422(
    day: TestClient, key_for: KeyMaker, start: str, end: str, field: str
) -> None:
    """A backwards, too long or out-of-bounds range is refused, naming the field, as JSON
    and CSV."""
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


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # the earliest day accepted
        ("2000-01-01", "2000-01-01"),
        # the latest day accepted
        ("2999-12-31", "2999-12-31"),
    ],
)
def test_the_bounds_are_allowed(day: TestClient, key_for: KeyMaker, start: str, end: str) -> None:
    """The earliest and the latest day accepted give an empty report, not an error."""
    for path in ("/kpis", "/kpis.csv"):
        answer = day.get(path, params={"from": start, "to": end}, headers=key_for("finance"))
        assert answer.status_code == 200, answer.text


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


def tables(content: bytes) -> list[list[dict[str, str]]]:
    """The CSV's tables, split at their blank lines, each read by its own header row."""
    text = content.decode("utf-8-sig")
    return [list(csv.DictReader(io.StringIO(part))) for part in text.split("\r\n\r\n")]


def test_kpis_csv(day: TestClient, key_for: KeyMaker) -> None:
    """A UTF-8 CSV with a byte-order mark: crews and total, technicians, tickets; same figures."""
    play_with_services(day, key_for)
    answer = day.get("/kpis.csv", params=WEEK, headers=key_for("finance"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"kpis-{WEEK['from']}-{WEEK['to']}.csv" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows, technicians, ticket_rows = tables(answer.content)
    assert [row["vehicle"] for row in rows] == ["C01", "C02", "total"]
    assert technicians == []  # the seeded fleet has no technician
    assert {row["ticket_kpi"]: row["value"] for row in ticket_rows}["opened"] == "0"
    total = rows[-1]
    assert (total["on_time_morning_numerator"], total["on_time_morning_denominator"]) == ("1", "3")
    assert total["on_time_morning_rate"] == "0.3333"
    assert (total["delivery_success_numerator"], total["delivery_success_rate"]) == ("2", "0.4000")
    assert (total["satisfaction_count"], total["satisfaction_average"]) == ("3", "3.67")
    assert rows[0]["installs_within_window_rate"] == "1.0000"


T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZONE)
AS_OF = T0 + dt.timedelta(days=2)
PLACE = {
    "customer_name": "张三",
    "customer_phone": "13800000000",
    "equipment": "燃气灶",
    "service_type": "repair",
    "on_site_at": "2026-11-26T10:00:00+08:00",
    "address": "成都市成华区建设路1号",
    "lat": 30.66,
    "lon": 104.07,
}


def play_tickets(settings: ServiceSettings, boss: dict[str, str]) -> None:
    """Six tickets, by hand (T0 = 11-24 09:00, as of T0 + 2 days):

    K1 answered after 2 h, T9 called 10 min after assigning, fixed in one visit, scored 5
    K2 answered after 14 h (late), T9 called after 20 min (late), two visits, scored 3
    K3 answered after 4 h; K4 never answered (late); K6 opened an hour ago, not yet due
    K5 opened on 11-20, before the range: not counted
    """
    steps: list[tuple[dt.timedelta, str, str, dict[str, Any] | None]] = [
        (dt.timedelta(days=-4), "open", "K5", None),
        *((dt.timedelta(0), "open", name, None) for name in ("K1", "K2", "K3", "K4")),
        (dt.timedelta(hours=2), "answer", "K1", None),
        (dt.timedelta(hours=3), "assign", "K1", {"vehicle_code": "T9"}),
        (
            dt.timedelta(hours=3, minutes=10),
            "contact",
            "K1",
            {"estimated_arrival": PLACE["on_site_at"]},
        ),
        (dt.timedelta(hours=4), "answer", "K3", None),
        (dt.timedelta(hours=14), "answer", "K2", None),
        (dt.timedelta(hours=14), "assign", "K2", {"vehicle_code": "T9"}),
        (
            dt.timedelta(hours=14, minutes=20),
            "contact",
            "K2",
            {"estimated_arrival": PLACE["on_site_at"]},
        ),
        (dt.timedelta(days=1), "visit", "K1", None),
        (dt.timedelta(days=1), "visit", "K2", None),
        (dt.timedelta(days=1), "visit", "K2", None),
        (dt.timedelta(days=2, hours=-1), "open", "K6", None),
    ]
    ids: dict[str, int] = {}
    for offset, action, name, body in steps:
        with app_at(settings, T0 + offset) as client:
            if action == "open":
                ticket = {"external_id": name, "category": "repair", **PLACE}
                ids[name] = client.post("/tickets", json=ticket, headers=boss).json()["id"]
                continue
            answer = client.post(f"/tickets/{ids[name]}/{action}", json=body, headers=boss)
            assert answer.status_code == 200, answer.text
    with app_at(settings, T0 + dt.timedelta(days=1)) as client:
        close = {
            "tested": True,
            "site_cleaned": True,
            "service_report_id": stored_service_report(client, date=DAY, key="kpi-report"),
        }
        for name, score in (("K1", 5), ("K2", 3)):
            body = {**close, "satisfaction": score}
            answer = client.post(f"/tickets/{ids[name]}/close", json=body, headers=boss)
            assert answer.status_code == 200, answer.text


def test_ticket_response_times(
    settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Answer hours, both clocks, first-visit fixes and scores of the tickets opened in range."""
    with app_at(settings, T0) as client:
        depot = {"code": "WH", "name": "仓", "lat": 30.66, "lon": 104.06}
        assert client.post("/depots", json=depot, headers=admin).status_code == 201
        technician = {
            "code": "T9",
            "kind": "technician",
            "depot_code": "WH",
            "weight_kg": 100,
            "volume_m3": 1,
            "name": "林涛",
        }
        assert client.post("/vehicles", json=technician, headers=admin).status_code == 201
        boss = key_for("dispatcher")
    play_tickets(settings, boss)
    with app_at(settings, AS_OF) as client:
        report = client.get("/kpis", params=WEEK, headers=boss).json()
        csv_tables = tables(client.get("/kpis.csv", params=WEEK, headers=boss).content)
    tickets = report["tickets"]
    assert (tickets["opened"], tickets["answered"], tickets["closed"]) == (5, 3, 2)
    assert tickets["hours_to_answer_median"] == 4.0  # of 2, 4 and 14 hours
    assert tickets["hours_to_answer_p90"] == 12.0  # 4 + 0.8 × (14 − 4)
    assert tickets["answered_in_time"] == rate(2, 4, 0.5)  # K1, K3 of K1–K4; K6 not yet due
    assert tickets["contacted_in_time"] == rate(1, 2, 0.5)
    assert tickets["first_visit_fix"] == rate(1, 2, 0.5)
    assert tickets["satisfaction"] == {"count": 2, "total": 8, "average": 4.0}
    (t9,) = report["technicians"]
    assert (t9["vehicle_code"], t9["name"], t9["tickets_closed"]) == ("T9", "林涛", 2)
    assert t9["contacted_in_time"] == rate(1, 2, 0.5)
    assert t9["first_visit_fix"] == rate(1, 2, 0.5)
    assert t9["visits_on_time"] == rate(0, 0, None)  # no published plan in the range
    _, technicians, ticket_rows = csv_tables
    assert technicians[0]["technician"] == "T9" and technicians[0]["tickets_closed"] == "2"
    by_name = {row["ticket_kpi"]: row for row in ticket_rows}
    assert by_name["hours_to_answer_p90"]["value"] == "12.00"
    assert by_name["answered_in_time"]["value"] == "0.5000"

"""The desk of a chain: each area's records in its own chain, its own reconciliation, its
own settings; chain-wide reports and KPIs are the sum of the areas, broken down by area."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from desk_helpers import AT, PLACE, D, count_body, two_area_day_database
from fastapi.testclient import TestClient
from ledger_helpers import on_the_day
from plan_helpers import engine_of
from sqlmodel import Session, select
from test_scope_desk import FLOW, cd_key, walk

from api.core.config import ServiceSettings
from api.records.audit import verify
from api.records.models import LedgerEntry, LedgerHead

prepared_database = two_area_day_database


@pytest.fixture
def chain(settings: ServiceSettings) -> Iterator[TestClient]:
    yield from on_the_day(settings)


def write(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    answer = client.post(path, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    return answer.json()


def shanghai_collects(client: TestClient, key_for: KeyMaker) -> None:
    """SH1 loads, leaves, reaches SH-2 and takes its ¥500 in cash."""
    driver, h = key_for("driver", "SH1"), f"/handover/{D}"
    write(client, f"{h}/loading/SH1/count", count_body("sh"), key_for("warehouse", areas=["sh"]))
    write(client, f"{h}/loading/SH1/sign", {"crew_leader_name": "SH1-driver", "at": AT}, driver)
    write(client, f"{h}/routes/SH1/depart", PLACE, driver)
    write(client, f"{h}/stops/SH-2/arrive", PLACE, driver)
    body = {"order": "SH-2", "amount_cny": 500, "method": "cash", "at": AT}
    write(client, f"/cash/{D}/collections", body, driver)


def test_a_cd_record_lands_in_cds_chain_and_both_chains_verify(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """CD1's records are in cd's chain of the day, SH1's in sh's; the audit verifies both."""
    walk(chain, key_for, FLOW, {})
    shanghai_collects(chain, key_for)
    with Session(engine_of(chain)) as session:
        rows = session.exec(select(LedgerEntry)).all()
        areas = {(row.vehicle_code, row.area_code) for row in rows if row.vehicle_code}
        assert areas == {("CD1", "cd"), ("SH1", "sh")}
        heads = {(head.area_code, head.seq) for head in session.exec(select(LedgerHead))}
        cd_count = sum(row.area_code == "cd" for row in rows)
        assert heads == {("cd", cd_count), ("sh", len(rows) - cd_count)}
        assert verify(session) == []


def test_a_list_of_records_shows_only_the_keys_area(chain: TestClient, key_for: KeyMaker) -> None:
    """Without naming an area, Shanghai's desk gets Shanghai's chain; a chain-wide desk must
    name one of several (422 naming area)."""
    walk(chain, key_for, FLOW[:4], {})
    shanghai_collects(chain, key_for)
    rows = chain.get(f"/handover/{D}/records", headers=key_for("dispatcher", areas=["sh"])).json()
    assert rows and {row["area_code"] for row in rows} == {"sh"}
    answer = chain.get(f"/handover/{D}/records", headers=key_for("dispatcher"))
    assert answer.status_code == 422 and answer.json()["field"] == "area"
    cd = chain.get(f"/handover/{D}/records?area=cd", headers=key_for("dispatcher")).json()
    assert cd and {row["area_code"] for row in cd} == {"cd"}


def test_each_area_reconciles_its_own_crews(chain: TestClient, key_for: KeyMaker) -> None:
    """Finance reconciles cd and sh apart: each names only its crews and its own cash."""
    walk(chain, key_for, FLOW[:6], {})  # CD1 collected ¥500 at CD-2
    shanghai_collects(chain, key_for)
    finance = key_for("finance")
    refused = chain.post(
        f"/cash/{D}/reconciliation", headers={**finance, "Idempotency-Key": "reconcile-all"}
    )
    assert refused.status_code == 422 and refused.json()["field"] == "area"
    for area, truck in (("cd", "CD1"), ("sh", "SH1")):
        stored = write(chain, f"/cash/{D}/reconciliation?area={area}", {}, finance)
        assert stored["area_code"] == area
        assert [crew["vehicle_code"] for crew in stored["crews"]] == [truck]
        assert stored["total"]["collected_cash_cny"] == 500
        again = chain.get(f"/cash/{D}/reconciliation?area={area}", headers=finance).json()
        assert again["id"] == stored["id"]


def test_an_areas_cash_cap_binds_on_its_crews_only(
    chain: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """Chengdu caps cash at ¥400: CD1 cannot take CD-2's ¥500 and its route says ¥400 (today
    by Chengdu's clock), SH1 takes SH-2's."""
    answer = chain.patch("/areas/cd", json={"cash_cap_cny": 400}, headers=admin)
    assert answer.status_code == 200, answer.text
    walk(chain, key_for, FLOW[:5], {})  # CD1 has arrived at CD-2
    driver = key_for("driver", "CD1")
    body = {"order": "CD-2", "amount_cny": 500, "method": "cash", "at": AT}
    refused = chain.post(
        f"/cash/{D}/collections", json=body, headers={**driver, "Idempotency-Key": "cd-2-cash"}
    )
    assert refused.status_code == 422 and refused.json()["rule"] == "cash_cap", refused.text
    assert chain.get(f"/cash/{D}/on-board/CD1", headers=driver).json()["cap_cny"] == 400
    assert chain.get("/driver/route", headers=driver).json()["cash_cap_cny"] == 400
    shanghai_collects(chain, key_for)
    sh = chain.get(f"/cash/{D}/on-board/SH1", headers=key_for("driver", "SH1")).json()
    assert sh["cap_cny"] == chain.app.state.settings.cash_cap_cny  # type: ignore[attr-defined]


SUMMED = ("planned_stops", "delivered", "failed", "not_reported", "on_time", "early", "late")
AMOUNTS = ("planned_km", "cash_expected_cny", "collected_cash_cny", "deposited_cny")


def test_the_chain_wide_report_is_the_sum_of_its_areas(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """Without an area, finance gets cd and sh summed, each area's total in by_area, each the
    same as that area's own report; the CSV has each area's crews, its total and the sum."""
    walk(chain, key_for, FLOW, {})
    shanghai_collects(chain, key_for)
    finance = key_for("finance")
    report = chain.get(f"/reports/daily/{D}", headers=finance).json()
    assert [part["area_code"] for part in report["by_area"]] == ["cd", "sh"]  # main: no plan
    assert report["area_code"] is None and report["plan_id"] is None
    assert [crew["vehicle_code"] for crew in report["crews"]] == ["CD1", "SH1"]
    for name in SUMMED:
        assert report["total"][name] == sum(p["total"][name] for p in report["by_area"]), name
    for name in AMOUNTS:
        parts = round(sum(p["total"][name] for p in report["by_area"]), 2)
        assert report["total"][name] == parts, name
    assert report["total"]["collected_cash_cny"] == 1000
    for part in report["by_area"]:
        own = chain.get(f"/reports/daily/{D}?area={part['area_code']}", headers=finance).json()
        assert own["total"] == part["total"] and own["plan_id"] == part["plan_id"]
    text = chain.get(f"/reports/daily/{D}.csv", headers=finance).content.decode("utf-8-sig")
    rows = [(row["vehicle"], row["area"]) for row in csv.DictReader(io.StringIO(text))]
    assert rows == [("CD1", "cd"), ("total", "cd"), ("SH1", "sh"), ("total", "sh"), ("total", "")]


def test_chain_wide_kpis_are_the_sum_of_their_areas(chain: TestClient, key_for: KeyMaker) -> None:
    """Every rate's counts over the areas add up to the chain's; a scoped key sees its own."""
    walk(chain, key_for, FLOW, {})
    shanghai_collects(chain, key_for)
    week = {"from": D, "to": D}
    report = chain.get("/kpis", params=week, headers=key_for("dispatcher")).json()
    # Every area the key sees, main (planned nothing) included: its counts are zeros.
    assert [part["area_code"] for part in report["by_area"]] == ["cd", "main", "sh"]
    for rate in ("on_time_morning", "on_time_afternoon", "delivery_success"):
        for count in ("numerator", "denominator"):
            parts = sum(p["total"][rate][count] for p in report["by_area"])
            assert report["total"][rate][count] == parts, (rate, count)
    assert report["total"]["delivery_success"]["denominator"] >= 1
    own = chain.get("/kpis", params=week, headers=key_for("dispatcher", areas=["sh"])).json()
    assert [part["area_code"] for part in own["by_area"]] == ["sh"] and own["area_code"] == "sh"
    assert own["crews"] == [c for c in report["crews"] if c["vehicle_code"] == "SH1"]
    text = chain.get("/kpis.csv", params=week, headers=key_for("finance")).content
    crews = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig").split("\r\n\r\n")[0])))
    assert ("CD1", "cd") in [(row["vehicle"], row["area"]) for row in crews]
    assert (crews[-1]["vehicle"], crews[-1]["area"]) == ("total", "")


def test_the_published_dispatch_sheet_is_per_area(chain: TestClient, key_for: KeyMaker) -> None:
    """The published sheet of a date is the named area's; a desk of several must name one."""
    both = key_for("warehouse", areas=["cd", "sh"])
    sheet = chain.get(f"/dispatch-sheet?date={D}&area=sh&format=csv", headers=both)
    assert sheet.status_code == 200 and "SH1" in sheet.text and "CD1" not in sheet.text
    answer = chain.get(f"/dispatch-sheet?date={D}", headers=both)
    assert answer.status_code == 422 and answer.json()["field"] == "area"
    mine = chain.get(f"/dispatch-sheet?date={D}&format=csv", headers=cd_key(key_for, "warehouse"))
    assert "CD1" in mine.text and "SH1" not in mine.text


def test_a_crews_today_is_its_areas(
    chain: TestClient, key_for: KeyMaker, admin: dict[str, str]
) -> None:
    """At 09:00 in Chengdu it is still the day before in Los Angeles: a Shanghai store moved
    there has no route today yet, Chengdu's crew has."""
    answer = chain.patch("/areas/sh", json={"timezone": "America/Los_Angeles"}, headers=admin)
    assert answer.status_code == 200, answer.text
    cd = chain.get("/driver/route", headers=key_for("driver", "CD1"))
    assert cd.status_code == 200 and cd.json()["date"] == D
    sh = chain.get("/driver/route", headers=key_for("driver", "SH1"))
    assert sh.status_code == 404 and "2026-11-26" in sh.json()["detail"]

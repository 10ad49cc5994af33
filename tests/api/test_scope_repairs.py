"""The scope boundary of take-back repairs: a key of Shanghai never takes back, repairs,
inspects, books back, returns or reads Chengdu's customers' goods, and Chengdu's keys do.

Chengdu's goods go round the register in order; each step is tried first by the same role
scoped to Shanghai (an admin there for the technician's steps: a driver's key is always its
own vehicle's area), which is a 403 storing nothing, then by Chengdu's key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from area_helpers import seed_two_areas
from fastapi.testclient import TestClient
from plan_helpers import DAY, app_at, engine_of
from repair_helpers import (
    ON_SITE,
    Visited,
    add_technician,
    at,
    created,
    take_back_body,
    visit,
    write,
)
from sqlmodel import Session, func, select

from api.core.config import ServiceSettings
from api.records.models import LedgerEntry
from api.repairs.models import TakeBack

COVERED: set[tuple[str, str]] = {
    ("POST", "/repairs"),
    ("GET", "/repairs/register"),
    ("GET", "/repairs/register.csv"),
    ("GET", "/repairs/{take_back_id}"),
    ("GET", "/repairs/{take_back_id}/receipt.html"),
    ("POST", "/repairs/{take_back_id}/repair-card"),
    ("POST", "/repairs/{take_back_id}/inspection"),
    ("POST", "/repairs/{take_back_id}/return-visit"),
    ("POST", "/repairs/{take_back_id}/return"),
}
NEXT = at(DAY + dt.timedelta(days=1), "10:00")


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def chengdu(
    client: TestClient, settings: ServiceSettings, admin: dict[str, str], key_for: KeyMaker
) -> Visited:
    """Areas cd and sh; Chengdu's repair ticket visited on DAY by its technician T01."""
    seed_two_areas(client, admin, orders=False)
    add_technician(client, admin, "WH-CD")
    # Chengdu has crews on DAY, so its technician must be on one to work that day.
    person = {"name": "王师傅", "phone": "13700000000", "role": "technician", "area_code": "cd"}
    staff = created(client.post("/staff", json=person, headers=admin))
    crew = {"date": DAY.isoformat(), "vehicle_code": "T01", "role": "technician"}
    created(client.post("/crews", json={**crew, "staff_id": staff["id"]}, headers=admin))
    place = {"address": "成都市成华区建设路9号", "lat": 30.67, "lon": 104.07}
    return visit(client, settings, key_for, area="cd", place=place)


def stored(client: TestClient) -> tuple[int, list[Any]]:
    """How many ledger entries, and every register row as stored."""
    with Session(engine_of(client)) as session:
        count = session.exec(select(func.count()).select_from(LedgerEntry)).one()
        rows = [row.model_dump() for row in session.exec(select(TakeBack))]
    return count, rows


def refused_then_done(
    client: TestClient,
    path: str,
    body: dict[str, Any],
    outsider: dict[str, str],
    insider: dict[str, str],
) -> Any:
    """The outsider's write is a 403 that stores nothing; the insider's answer follows."""
    before = stored(client)
    refused = write(client, path, body, outsider)
    assert refused.status_code == 403, refused.text
    assert refused.json()["rule"] == "area_scope"
    assert stored(client) == before
    return write(client, path, body, insider)


def test_chengdus_goods_are_chengdus_alone(
    settings: ServiceSettings, client: TestClient, chengdu: Visited, key_for: KeyMaker
) -> None:
    """Every repairs route: Shanghai's key is refused Chengdu's goods, Chengdu's is served."""
    sh_admin = key_for("admin", areas=["sh"])
    sh_boss = key_for("dispatcher", areas=["sh"])
    with app_at(settings, ON_SITE) as day:
        body = take_back_body(chengdu)
        goods = created(refused_then_done(day, "/repairs", body, sh_admin, chengdu.technician))
    path = f"/repairs/{goods['id']}"
    with app_at(settings, NEXT) as later:
        card = {"labour_hours": 1, "work_done": "修好", "at": NEXT.isoformat()}
        created(refused_then_done(later, f"{path}/repair-card", card, sh_admin, chengdu.technician))
        passed = {"passed": True, "at": NEXT.isoformat()}
        created(refused_then_done(later, f"{path}/inspection", passed, sh_boss, chengdu.boss))
        chosen = {"on_site_at": at(DAY + dt.timedelta(days=3), "14:00").isoformat()}
        created(refused_then_done(later, f"{path}/return-visit", chosen, sh_boss, chengdu.boss))
        # In scope, the return needs the return visit's signed report: a rule, not the scope.
        back = {"service_report_id": 1, "receipt_returned": True, "lat": 30.6, "lon": 104.0}
        back["at"] = NEXT.isoformat()
        answer = refused_then_done(later, f"{path}/return", back, sh_admin, chengdu.technician)
        assert answer.status_code == 422 and answer.json()["field"] == "service_report_id"
        for read in (path, f"{path}/receipt.html"):
            assert later.get(read, headers=sh_boss).status_code == 403
            assert later.get(read, headers=chengdu.boss).status_code == 200
        for listing in ("/repairs/register", "/repairs/register.csv"):
            asked = later.get(listing, params={"area": "cd"}, headers=sh_boss)
            assert asked.status_code == 403 and asked.json()["rule"] == "area_scope"
            assert goods["receipt_no"] not in later.get(listing, headers=sh_boss).text
            assert goods["receipt_no"] in later.get(listing, headers=chengdu.boss).text

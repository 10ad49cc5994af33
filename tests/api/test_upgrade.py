"""Upgrading in place: a database made by the last release (schema 0009) is migrated to head
and keeps its data, its record chains and its keys, on SQLite and on PostgreSQL.

The release's database is tests/api/data/release_0009.sqlite (see the README there). On
PostgreSQL its rows are loaded with plain SQL into a database migrated to 0009, then the same
upgrade runs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from plan_helpers import app_at
from prepared import create_database
from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.areas.models import DEFAULT_AREA
from api.cli import main
from api.core.config import ServiceSettings, get_service_settings
from api.core.db import make_engine
from api.core.migrate import upgrade
from api.records.audit import verify
from api.records.models import LedgerHead

RELEASE = Path(__file__).with_name("data") / "release_0009.sqlite"
# The keys the release's database was given, in clear (see data/README.md).
KEYS = {
    "dispatcher": "release-dispatcher-key",
    "driver": "release-driver-key",
    "order_system": "release-order-system-key",
    "warehouse": "release-warehouse-key",
    "finance": "release-finance-key",
}
DRIVER_VEHICLE = "C05"
DAY = dt.date(2026, 12, 9)  # the day the release's demo planned, published and delivered
NOW = dt.datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# Tables whose rows now name their area.
OWNED = (
    "depot",
    "staff",
    "order",
    "plan",
    "plan_job",
    "ticket",
    "notification_message",
    "ledger_entry",
    "ledger_head",
)


def _release_rows(sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{RELEASE}?mode=ro", uri=True) as connection:
        return connection.execute(sql).fetchall()


def _release_counts() -> dict[str, int]:
    names = _release_rows("SELECT name FROM sqlite_master WHERE type = 'table'")
    tables = [name for (name,) in names if name != "alembic_version"]
    return {table: _release_rows(f'SELECT count(*) FROM "{table}"')[0][0] for table in tables}


def _load_release_rows(engine: Engine) -> None:
    """Copy every row of the release's SQLite file into `engine`'s 0009 schema, table by
    table in foreign-key order, then move each id sequence past the copied ids."""
    target = MetaData()
    target.reflect(engine)
    source = create_engine(f"sqlite:///file:{RELEASE}?mode=ro&uri=true")
    with source.connect() as reading, engine.begin() as writing:
        for table in target.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(row._mapping) for row in reading.execute(select(table))]
            for row in rows:
                for column in table.columns:
                    value = row[column.name]
                    # SQLite kept UTC wall times without their offset.
                    if isinstance(value, dt.datetime) and value.tzinfo is None:
                        row[column.name] = value.replace(tzinfo=dt.UTC)
            if rows:
                writing.execute(table.insert(), rows)
            if "id" in table.columns and table.columns["id"].autoincrement is not False:
                writing.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'(SELECT coalesce(max(id), 1) FROM "{table.name}"))'
                    )
                )
    source.dispose()


@pytest.fixture
def upgraded(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of the release's database, upgraded in place to the current schema."""
    if backend == "sqlite":
        copy = tmp_path / "release.db"
        shutil.copy(RELEASE, copy)
        url = f"sqlite:///{copy}"
        engine = make_engine(url)
    else:
        server = request.getfixturevalue("postgres_server")
        url = create_database(server, f"up_{uuid.uuid4().hex[:12]}")
        engine = make_engine(url)
        upgrade(engine, "0009")
        _load_release_rows(engine)
    upgrade(engine)
    engine.dispose()
    yield url


def _client(url: str) -> TestClient:
    settings = ServiceSettings(database_url=url, run_scheduler=False, session_cookie_secure=False)
    return app_at(settings, NOW)


def _as(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def test_the_release_database_is_schema_0009() -> None:
    """The committed database is what the release made: its schema stops at revision 0009."""
    assert _release_rows("SELECT version_num FROM alembic_version") == [("0009",)]
    assert "area" not in {name for (name,) in _release_rows("SELECT name FROM sqlite_master")}


def test_upgrade_keeps_every_row_and_puts_it_in_the_default_area(upgraded: str) -> None:
    """Every table keeps its row count, and every owned row is in area main."""
    before = _release_counts()
    engine = make_engine(upgraded)
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        after = {
            name: connection.execute(select(func.count()).select_from(tables.tables[name])).scalar()
            for name in before
        }
        areas = {
            name: set(connection.execute(select(tables.tables[name].c.area_code)).scalars())
            for name in OWNED
        }
        codes = list(connection.execute(select(tables.tables["area"].c.code)).scalars())
    engine.dispose()
    assert after == before
    assert before["order"] > 100 and before["ledger_entry"] > 40 and before["plan"] == 2
    assert before["ticket"] and before["notification_message"] and before["api_key"] > 5
    assert codes == [DEFAULT_AREA]
    for name in OWNED:
        expected = {DEFAULT_AREA} if before[name] else set()
        assert areas[name] == expected, name


def test_upgrade_keeps_the_record_chains_verifying(
    upgraded: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dispatch audit verify` finds the upgraded records intact, every day of them."""
    engine = make_engine(upgraded)
    with Session(engine) as session:
        problems = verify(session)
        heads = select(LedgerHead.date).where(LedgerHead.area_code == DEFAULT_AREA)
        days = session.scalars(heads).all()
        assert sorted(days) == sorted(
            dt.date.fromisoformat(day) for (day,) in _release_rows("SELECT date FROM ledger_head")
        )
    engine.dispose()
    assert problems == []
    monkeypatch.setenv("DATABASE_URL", upgraded)
    get_service_settings.cache_clear()
    try:
        assert main(["audit", "verify"]) == 0
    finally:
        get_service_settings.cache_clear()
    assert "records intact" in capsys.readouterr().out


def test_old_keys_read_the_same_plans_and_orders(upgraded: str) -> None:
    """The release's keys list the same plans and orders as before, naming no area."""
    plans = [(i, s.lower()) for i, s in _release_rows("SELECT id, status FROM plan ORDER BY id")]
    orders = {e: s.lower() for e, s in _release_rows('SELECT external_id, status FROM "order"')}
    with _client(upgraded) as client:
        listed = client.get("/plans", headers=_as("dispatcher"))
        assert listed.status_code == 200, listed.text
        assert sorted((p["id"], p["status"]) for p in listed.json()) == plans
        booked = client.get("/orders", headers=_as("dispatcher"))
        assert booked.status_code == 200, booked.text
        assert {o["external_id"]: o["status"] for o in booked.json()} == orders
        session = client.get("/session", headers=_as("dispatcher"))
        assert session.json()["areas"] == []
        for role in ("warehouse", "finance"):
            seen = client.get("/plans", headers=_as(role))
            assert sorted((p["id"], p["status"]) for p in seen.json()) == plans, role


def test_old_driver_key_still_reads_its_route(upgraded: str) -> None:
    """The release's driver key reads its crew's published route of the demo's day."""
    stops = _release_rows(
        "SELECT count(*) FROM plan_stop JOIN plan ON plan_stop.plan_id = plan.id "
        f"WHERE plan.date = '{DAY}' AND plan_stop.vehicle_code = '{DRIVER_VEHICLE}'"
    )[0][0]
    with _client(upgraded) as client:
        route = client.get("/driver/route", params={"date": str(DAY)}, headers=_as("driver"))
    assert route.status_code == 200, route.text
    assert route.json()["vehicle_code"] == DRIVER_VEHICLE
    assert len(route.json()["stops"]) == stops > 0


def test_a_new_order_is_booked_without_naming_an_area(upgraded: str) -> None:
    """The release's order-system key books an order as before; it lands in area main."""
    order = {
        "external_id": "SO-AFTER-UPGRADE",
        "customer": "王女士",
        "phone": "13800138000",
        "address": "成都市武侯区科华北路1号",
        "lat": 30.63,
        "lon": 104.07,
        "date": str(NOW.date() + dt.timedelta(days=4)),
        "slot": "morning",
        "items": [{"sku": "SOFA", "name": "沙发", "quantity": 1, "weight_kg": 40, "volume_m3": 2}],
    }
    with _client(upgraded) as client:
        booked = client.post("/orders", json=order, headers=_as("order_system"))
        assert booked.status_code == 201, booked.text
        assert booked.json()["area_code"] == DEFAULT_AREA
        listed = client.get("/orders", headers=_as("dispatcher"))
    assert "SO-AFTER-UPGRADE" in {o["external_id"] for o in listed.json()}


def test_sqlite_enforces_foreign_keys_again_after_upgrading(tmp_path: Path) -> None:
    """SQLite's table copies run with foreign keys off; the engine gets them back on after."""
    copy = tmp_path / "release.db"
    shutil.copy(RELEASE, copy)
    engine = make_engine(f"sqlite:///{copy}")
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    engine.dispose()

"""Bank branches per area: kept through the API, checked, and offered to the planner with
the area's deposits switch and the chain's default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from plan_helpers import DAY, app_at, engine_of, seed_day
from pydantic import ValidationError
from sqlmodel import Session

from api.areas.scope import local_settings
from api.core.config import ServiceSettings
from api.plans.model_input import planning_input
from optimizer.settings import BankBranchSetting

BANK = {"code": "ICBC-CH", "name": "工商银行成华支行", "lat": 30.67, "lon": 104.08}
DEFAULT = BankBranchSetting(code="BOC-JJ", name="中国银行锦江支行", lat=30.65, lon=104.08)


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """The service as of the fixed morning the seeded day is booked on."""
    with app_at(settings) as test_client:
        yield test_client


def post_bank(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    return client.post("/banks", json={**BANK, **changes}, headers=headers)


def offered(client: TestClient, settings: ServiceSettings) -> list[str]:
    """The bank ids the day's planning input holds, under `settings`."""
    with Session(engine_of(client)) as session:
        day = planning_input(session=session, date=DAY, settings=settings)
    return [bank.id for bank in day.data.banks]


def test_a_bank_is_created_listed_and_changed(client: TestClient, admin: dict[str, str]) -> None:
    """POST stores it in the only area with its defaults; GET lists it; PATCH moves its hours."""
    created = post_bank(client, admin)
    assert created.status_code == 201, created.text
    assert created.json() | {"id": 0} == {
        **BANK,
        "id": 0,
        "area_code": "main",
        "address": "",
        "opens": "09:00:00",
        "closes": "17:00:00",
        "service_minutes": 15,
        "active": True,
    }
    changed = client.patch("/banks/ICBC-CH", json={"closes": "16:30"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["closes"] == "16:30:00"
    listed = client.get("/banks?area=main", headers=admin).json()
    assert [(b["code"], b["closes"]) for b in listed] == [("ICBC-CH", "16:30:00")]
    assert post_bank(client, admin).status_code == 409  # the code is taken


def test_bad_bank_fields_are_a_422_naming_the_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Hours out of order, a deposit longer than the hours, a place off the globe: 422."""
    cases = [
        ({"opens": "10:00", "closes": "09:00"}, "closes"),
        ({"opens": "09:00", "closes": "09:10", "service_minutes": 15}, "service_minutes"),
        ({"lat": 91}, "lat"),
        ({"lon": float("nan")}, "lon"),
        ({"code": "工行"}, "code"),
        ({"service_minutes": 600}, "service_minutes"),
    ]
    for changes, field in cases:
        body = {**BANK, **changes}
        as_json = {**admin, "Content-Type": "application/json"}
        answer = client.post("/banks", content=json.dumps(body, allow_nan=True), headers=as_json)
        assert answer.status_code == 422, (changes, answer.text)
        assert answer.json()["field"] == field, (changes, answer.json())
    assert client.get("/banks", headers=admin).json() == []


def test_a_patch_that_breaks_the_hours_changes_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Closing before the stored opening, or a deposit longer than the hours: 422, unchanged."""
    post_bank(client, admin, opens="09:00", closes="10:00")
    cases = (
        ({"closes": "08:30"}, "closes"),
        ({"opens": "10:30"}, "closes"),
        ({"service_minutes": 90}, "service_minutes"),
        ({"opens": "09:50"}, "service_minutes"),
    )
    for changes, field in cases:
        answer = client.patch("/banks/ICBC-CH", json=changes, headers=admin)
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field, (changes, answer.json())
    [stored] = client.get("/banks", headers=admin).json()
    assert (stored["opens"], stored["closes"], stored["service_minutes"]) == (
        "09:00:00",
        "10:00:00",
        15,
    )


def test_dispatchers_write_warehouse_and_finance_read_drivers_neither(
    client: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Roles: a dispatcher adds a bank, a warehouse key reads but may not, a driver sees none."""
    assert post_bank(client, key_for("dispatcher")).status_code == 201
    assert post_bank(client, key_for("warehouse"), code="X").status_code == 403
    assert client.get("/banks", headers=key_for("finance")).status_code == 200
    assert client.get("/banks", headers=key_for("driver", "C01")).status_code == 403


def test_planning_offers_the_areas_active_banks_to_crews_of_two(
    client: TestClient, admin: dict[str, str], settings: ServiceSettings
) -> None:
    """The day's banks are the area's active ones; C01 (two crew) may deposit, C02 (one) not."""
    seed_day(client, admin)
    post_bank(client, admin)
    post_bank(client, admin, code="OLD", active=False)
    with Session(engine_of(client)) as session:
        day = planning_input(session=session, date=DAY, settings=settings)
    [bank] = day.data.banks
    assert (bank.id, bank.opens, bank.closes, bank.service_time) == (
        "ICBC-CH",
        9 * 3600,
        17 * 3600,
        900,
    )
    crews = {vehicle.id: vehicle for vehicle in day.data.vehicles}
    assert (crews["C01"].crew_size, crews["C02"].crew_size) == (2, 1)
    assert day.data.may_deposit(crews["C01"]) and not day.data.may_deposit(crews["C02"])


def test_an_area_switched_off_offers_no_banks(
    client: TestClient, admin: dict[str, str], settings: ServiceSettings
) -> None:
    """deposits_enabled false on the area: no bank in its planning input; true brings them back."""
    seed_day(client, admin)
    post_bank(client, admin)
    local = settings.model_copy(update={"deposits_enabled": False})
    assert offered(client, settings) == ["ICBC-CH"] and offered(client, local) == []
    answer = client.patch("/areas/main", json={"deposits_enabled": False}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["deposits_enabled"] is False
    assert "deposits_enabled" in answer.json()["overrides"]
    [area] = client.get("/areas", headers=admin).json()
    assert area["deposits_enabled"] is False


def test_the_switch_is_applied_by_the_planning_job(
    client: TestClient, admin: dict[str, str], settings: ServiceSettings
) -> None:
    """The planner reads the area's own settings, so the switch reaches the planning job."""
    seed_day(client, admin)
    post_bank(client, admin)
    client.patch("/areas/main", json={"deposits_enabled": False}, headers=admin)
    with Session(engine_of(client)) as session:
        local = local_settings(session=session, settings=settings, area="main")
    assert local.deposits_enabled is False and offered(client, local) == []


def test_the_settings_default_serves_an_area_without_branches_of_its_own(
    settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """With no active branch of its own the area gets the default; its own replace it."""
    chain = settings.model_copy(update={"bank_branches": [DEFAULT], "deposit_min_crew": 1})
    with app_at(chain) as client:
        seed_day(client, admin)
        assert offered(client, chain) == ["BOC-JJ"]
        post_bank(client, admin, active=False)
        assert offered(client, chain) == ["BOC-JJ"]
        client.patch("/banks/ICBC-CH", json={"active": True}, headers=admin)
        assert offered(client, chain) == ["ICBC-CH"]
        with Session(engine_of(client)) as session:
            day = planning_input(session=session, date=DAY, settings=chain)
        assert day.data.deposit_min_crew == 1
        assert all(day.data.may_deposit(vehicle) for vehicle in day.data.vehicles)


def test_the_default_branches_are_checked_like_the_api_checks_a_branch() -> None:
    """A default whose deposit does not fit in its hours is refused when settings load."""
    with pytest.raises(ValidationError, match="service_minutes"):
        BankBranchSetting(code="X", lat=30, lon=104, opens="09:00", closes="09:10")


def test_the_default_branches_and_the_switch_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DISPATCH_BANK_BRANCHES is JSON of branches; DISPATCH_DEPOSITS_ENABLED turns them off."""
    branch = {"code": "BOC-JJ", "lat": 30.65, "lon": 104.08, "opens": "09:30", "closes": "16:00"}
    monkeypatch.setenv("DISPATCH_BANK_BRANCHES", json.dumps([branch]))
    monkeypatch.setenv("DISPATCH_DEPOSITS_ENABLED", "false")
    monkeypatch.setenv("DISPATCH_DEPOSIT_MIN_CREW", "3")
    read = ServiceSettings()
    [bank] = read.bank_branches
    assert (bank.code, bank.opens.isoformat(), bank.service_minutes) == ("BOC-JJ", "09:30:00", 15)
    assert read.deposits_enabled is False and read.deposit_min_crew == 3

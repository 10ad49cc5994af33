"""Deposit stops of a stored plan: kept with the plan, shown on every page a route is, and
the bank-deposit record made at them.

Until the optimizer plans deposits itself, each test puts a hand-made deposit stop on the
solved plan, written by the same rows function the planning job uses.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import cash, collection, deposit, published_day, record
from plan_helpers import DAY, app_at, engine_of, if_match, seed_day, snapshot, store_plan
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.plans.drafts import load
from api.plans.mapping import result_rows, stored_result
from api.plans.models import Plan, PlanDeposit, PlanStatus
from api.records.kinds import Kind
from optimizer.data import Bank
from optimizer.result import Deposit, Kpis, Result, Route, Status

H = 3600
ICBC = Bank("ICBC-CH", 30.67, 104.08, 9 * H, 17 * H, 900, "工商银行成华支行")
# C01 banks ¥4,000 between its second and third stop, 11:20–11:35.
BANKED = Deposit("ICBC-CH", 2, 11 * H + 1200, 11 * H + 1200, 11 * H + 2100, 400_000, 1500)


def bank_stop(client: TestClient, plan_id: int) -> int:
    """Put BANKED on C01's stored route, as the planning job's rows; the row's id."""
    route = Route("C01", 0, 0, (), 0, (BANKED,))
    with Session(engine_of(client)) as session:
        rows = result_rows(plan_id=plan_id, result=_only(route), orders={}, banks=[ICBC])
        session.add_all(rows.deposits)
        session.commit()
        return int(rows.deposits[0].id or 0)


def _only(route: Route) -> Result:
    return Result(Status.FEASIBLE, (route,), (), Kpis(0, 0, 0, 0, 0, 0, 0.0), 0, 0.0, 0)


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def plan_id(client: TestClient, admin: dict[str, str]) -> int:
    """The seeded day solved and stored as a draft, with C01's bank stop."""
    seed_day(client, admin)
    plan = store_plan(client)
    bank_stop(client, plan)
    return plan


@pytest.fixture
def day(settings: ServiceSettings, admin: dict[str, str]) -> Iterator[TestClient]:
    """The seeded day published with C01's bank stop; the service as of the day's morning."""
    for client in published_day(settings, admin):
        with Session(engine_of(client)) as session:
            published = session.exec(select(Plan.id).where(Plan.status == PlanStatus.PUBLISHED))
            plan = int(published.one() or 0)
        bank_stop(client, plan)
        yield client


def test_a_deposit_stop_is_stored_and_read_back(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """The rows give back the same Deposit, and GET /plans/{id} lists it with C01's route."""
    with Session(engine_of(client)) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        stored = load(session, plan)
        result = stored_result(
            routes=stored.routes,
            stops=stored.stops,
            unassigned=[],
            external_ids=stored.external_ids,
            kpis={},
            seed=0,
            deposits=stored.deposits,
        )
    routes = {route.vehicle_id: route for route in result.routes}
    assert routes["C01"].deposits == (BANKED,) and routes["C02"].deposits == ()
    shown = client.get(f"/plans/{plan_id}", headers=admin).json()
    c01 = next(route for route in shown["routes"] if route["vehicle_code"] == "C01")
    assert [d | {"id": 0} for d in c01["deposits"]] == [
        {
            "id": 0,
            "after": 2,
            "bank_code": "ICBC-CH",
            "bank_name": "工商银行成华支行",
            "arrival": "11:20",
            "start": "11:20",
            "departure": "11:35",
            "amount_cny": 4000.0,
            "distance_from_previous_km": 1.5,
        }
    ]


def test_a_deposit_at_an_unknown_bank_is_not_stored() -> None:
    """A route naming a bank the day did not offer cannot become rows."""
    with pytest.raises(ValueError, match="unknown bank 'ICBC-CH'"):
        result_rows(plan_id=1, result=_only(Route("C01", 0, 0, (), 0, (BANKED,))), orders={})


def test_the_dispatch_sheet_has_the_bank_stop_in_place(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """CSV: a row between C01's stops 2 and 3 with the amount to bank; HTML: the same line."""
    answer = client.get(f"/plans/{plan_id}/dispatch-sheet.csv", headers=admin)
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    c01 = [(r["stop"], r["customer"], r["deposit_cny"]) for r in rows if r["vehicle"] == "C01"]
    assert c01[2] == ("", "存款 Bank deposit: 工商银行成华支行 (ICBC-CH)", "4000.00")
    assert [stop for stop, _, _ in c01] == ["1", "2", "", "3"]
    page = client.get(f"/plans/{plan_id}/dispatch-sheet.html", headers=admin).text
    assert "存款 工商银行成华支行 (ICBC-CH)" in page
    assert "11:20–11:35: two of the crew bank about ¥4,000" in page


def test_the_board_timeline_has_a_deposit_bar(
    client: TestClient, key_for: KeyMaker, plan_id: int
) -> None:
    """C01's row has a bar of kind deposit at the bank's 11:20–11:35, between its visits."""
    key = key_for("dispatcher")["Authorization"].removeprefix("Bearer ")
    assert client.post("/session", json={"key": key}).status_code == 200
    page = client.get("/app/board", params={"date": DAY.isoformat(), "plan": plan_id}).text
    bar = f'data-kind="deposit" data-order="ICBC-CH" data-start="{11 * H + 1200}" '
    bar += f'data-end="{11 * H + 2100}"'
    assert page.count('data-kind="deposit"') == 2  # the bar and the key
    assert bar in page
    assert "存款: ICBC-CH 存款 工商银行成华支行 ¥4,000 11:20–11:35" in page


def test_the_route_map_draws_the_bank(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """The plan's map has the bank's 存 marker with C01's deposit in its tooltip."""
    page = client.get(f"/plans/{plan_id}/map.html", headers=admin).text
    assert "C01 存款 工商银行成华支行 11:20–11:35 ¥4,000.00" in page


def test_the_driver_sees_the_bank_stop_in_the_list_and_on_the_map(
    day: TestClient, key_for: KeyMaker
) -> None:
    """/driver/route lists it; the page shows it after stop 2; the crew's map marks the bank."""
    driver = key_for("driver", "C01")
    route = day.get(f"/driver/route?date={DAY.isoformat()}", headers=driver).json()
    [banked] = route["deposits"]
    assert (banked["bank_code"], banked["after"], banked["amount_cny"]) == ("ICBC-CH", 2, 4000)
    assert day.post("/session", json={"key": driver["Authorization"][7:]}).status_code == 200
    page = day.get("/app/driver").text
    card = "存款 工商银行成华支行, 11:20–11:35, 约 ¥4,000.00"
    assert card in page
    positions = [page.index(f'data-position="{n}"') for n in (2, 3)]
    assert positions[0] < page.index(card) < positions[1]
    crew_map = day.get("/app/driver/map.html").text
    assert "C01 存款 工商银行成华支行 11:20–11:35 ¥4,000.00" in crew_map


def _collected(day: TestClient, driver: dict[str, str], amount: float) -> None:
    record(day, Kind.ARRIVED, "SO-03")
    answer = cash(day, "collections", collection("SO-03", amount), driver)
    assert answer.status_code == 201, answer.text


def test_the_deposit_at_the_planned_stop_banks_all_cash_on_board(
    day: TestClient, key_for: KeyMaker
) -> None:
    """Named by its bank, the record refers to the planned stop; less than everything is 422."""
    driver = key_for("driver", "C01")
    _collected(day, driver, 4000)
    body = {**deposit(1000, ["张伟", "刘洋"]), "bank_code": "ICBC-CH"}
    short = cash(day, "deposits", body, driver)
    assert short.status_code == 422, short.text
    assert (short.json()["rule"], short.json()["field"]) == ("deposit_all", "amount_cny")
    key = uuid.uuid4().hex
    banked = cash(day, "deposits", {**body, "amount_cny": 4000}, driver, key)
    assert banked.status_code == 201, banked.text
    with Session(engine_of(day)) as session:
        stop = session.exec(select(PlanDeposit)).one()
    assert banked.json()["planned"] is True and banked.json()["plan_deposit_id"] == stop.id
    assert banked.json()["bank_code"] == "ICBC-CH"
    on_board = day.get(f"/cash/{DAY.isoformat()}/on-board/C01", headers=driver).json()
    assert on_board["cash_on_board_cny"] == 0
    again = cash(day, "deposits", {**body, "amount_cny": 4000}, driver, key)
    assert again.status_code == 200 and again.json()["id"] == banked.json()["id"]


def test_a_deposit_at_a_bank_off_the_route_is_allowed_but_unplanned(
    day: TestClient, key_for: KeyMaker
) -> None:
    """Another bank, or none named: stored, marked unplanned; part of the cash may be banked."""
    driver = key_for("driver", "C01")
    _collected(day, driver, 4000)
    elsewhere = {**deposit(1000, ["张伟", "刘洋"]), "bank_code": "CCB-9"}
    answer = cash(day, "deposits", elsewhere, driver)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["planned"], answer.json()["plan_deposit_id"]) == (False, None)
    assert answer.json()["bank_code"] == "CCB-9"
    unnamed = cash(day, "deposits", deposit(500, ["张伟", "刘洋"]), driver)
    assert unnamed.status_code == 201 and unnamed.json()["planned"] is False
    on_board = day.get(f"/cash/{DAY.isoformat()}/on-board/C01", headers=driver).json()
    assert on_board["cash_on_board_cny"] == 2500


def test_a_deposit_naming_a_stop_not_on_the_route_is_refused(
    day: TestClient, key_for: KeyMaker
) -> None:
    """A plan deposit id not on C01's published route, or at another bank: 422, nothing stored."""
    driver = key_for("driver", "C01")
    _collected(day, driver, 4000)
    with Session(engine_of(day)) as session:
        stop_id = session.exec(select(PlanDeposit.id)).one()
    base = deposit(4000, ["张伟", "刘洋"])
    cases = [
        ({"plan_deposit_id": (stop_id or 0) + 99}, "plan_deposit_id"),
        ({"plan_deposit_id": stop_id, "bank_code": "CCB-9"}, "bank_code"),
    ]
    for changes, field in cases:
        refused = cash(day, "deposits", {**base, **changes}, driver)
        assert refused.status_code == 422 and refused.json()["field"] == field, refused.text
    on_board = day.get(f"/cash/{DAY.isoformat()}/on-board/C01", headers=driver).json()
    assert on_board["cash_on_board_cny"] == 4000


def test_an_edit_of_another_route_keeps_the_bank_stop(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """Taking a visit off C02 re-times C02 only: C01's deposit stop stays as planned."""
    body = {"order": "SO-05", "reason": "客户改期"}
    answer = client.post(f"/plans/{plan_id}/unassign", json=body, headers={**admin, **if_match(1)})
    assert answer.status_code == 200, answer.text
    shown = client.get(f"/plans/{plan_id}", headers=admin).json()
    deposits = {route["vehicle_code"]: route["deposits"] for route in shown["routes"]}
    assert [d["bank_code"] for d in deposits["C01"]] == ["ICBC-CH"] and deposits["C02"] == []


def test_a_one_person_crew_over_its_cap_is_refused_even_with_a_bank(
    client: TestClient, admin: dict[str, str], plan_id: int
) -> None:
    """C02 (crew of one, cap raised to ¥4,500) may not bank: SO-03's ¥4,000 on top is a 409."""
    bank = {"code": "ICBC-CH", "name": "工商银行成华支行", "lat": 30.67, "lon": 104.08}
    assert client.post("/banks", json=bank, headers=admin).status_code == 201
    raised = client.patch("/vehicles/C02", json={"cash_cap_cny": 4500}, headers=admin)
    assert raised.status_code == 200, raised.text
    before = snapshot(client, plan_id)
    body = {"order": "SO-03", "vehicle_code": "C02"}
    answer = client.post(f"/plans/{plan_id}/moves", json=body, headers={**admin, **if_match(1)})
    assert answer.status_code == 409, answer.text
    assert answer.json()["rule"] == "cash" and "C02" in answer.json()["detail"]
    assert snapshot(client, plan_id) == before

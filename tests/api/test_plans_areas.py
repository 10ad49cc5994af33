"""Plans per area: two areas planned for one date stay apart, each under its own settings,
and publishing or re-planning one leaves the other's plans and orders as they were."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import KeyMaker
from area_helpers import AREAS, ORDERS, seed_two_areas
from fastapi.testclient import TestClient
from plan_helpers import DAY, ZONE, app_at, engine_of, if_match, store_solved
from sqlmodel import Session, select
from test_plans import wait_for

from api.areas.scope import local_settings
from api.core.config import ServiceSettings
from api.orders.models import Order
from api.plans.model_input import planning_input
from api.plans.models import Plan, PlanStatus


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """Replaces conftest's client (and so key_for's) with one whose clock stands at NOW."""
    with app_at(settings) as test_client:
        yield test_client


@pytest.fixture
def chain(client: TestClient, admin: dict[str, str]) -> TestClient:
    """Chengdu and Shanghai, each with a crewed truck and its orders on DAY."""
    seed_two_areas(client, admin)
    return client


def plan_job(client: TestClient, headers: dict[str, str], area: str) -> dict[str, Any]:
    """Plan DAY of one area through a real job; the finished job."""
    body = {"date": DAY.isoformat(), "area": area, "time_limit_s": 2}
    answer = client.post("/plans", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    job = wait_for(client, headers, answer.json()["id"])
    assert job["status"] == "succeeded", job
    return job


def routed(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Vehicle -> external ids of a plan as read through the API."""
    return {r["vehicle_code"]: [s["external_id"] for s in r["stops"]] for r in plan["routes"]}


def statuses(client: TestClient, area: str) -> dict[str, str]:
    with Session(engine_of(client)) as session:
        orders = session.exec(select(Order).where(Order.area_code == area))
        return {order.external_id: order.status.value for order in orders}


def plan_rows(client: TestClient, area: str) -> dict[int, tuple[str, int]]:
    """Plan id -> (status, version) of an area's plans."""
    with Session(engine_of(client)) as session:
        plans = session.exec(select(Plan).where(Plan.area_code == area))
        return {plan.id or 0: (plan.status.value, plan.version) for plan in plans}


def publish(client: TestClient, headers: dict[str, str], plan_id: int) -> dict[str, Any]:
    version = client.get(f"/plans/{plan_id}", headers=headers).json()["version"]
    answer = client.post(f"/plans/{plan_id}/publish", headers=headers | if_match(version))
    assert answer.status_code == 200, answer.text
    published: dict[str, Any] = answer.json()
    return published


def test_two_areas_planned_for_one_date_share_no_visit_and_no_crew(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """Two real jobs plan Chengdu and Shanghai of one date: each only its own trucks and orders."""
    planner = key_for("dispatcher")
    plans = {}
    for area in AREAS:
        job = plan_job(chain, planner, area)
        assert job["area_code"] == area
        plans[area] = chain.get(f"/plans/{job['plan_id']}", headers=planner).json()
    for area, plan in plans.items():
        truck = AREAS[area][5]
        assert plan["area_code"] == area
        assert set(routed(plan)) == {truck}
        visits = [v for route in routed(plan).values() for v in route]
        visits += [u["external_id"] for u in plan["unassigned"]]
        assert sorted(visits) == sorted(ORDERS[area])


def test_a_chain_wide_planner_names_the_area_and_a_scoped_one_need_not(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """With several areas a chain-wide key's job is a 422 naming area; a scoped key's is its own."""
    body = {"date": DAY.isoformat(), "time_limit_s": 1}
    refused = chain.post("/plans", json=body, headers=key_for("dispatcher"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "area"
    unknown = chain.post("/plans", json=body | {"area": "gz"}, headers=key_for("dispatcher"))
    assert unknown.status_code == 422 and unknown.json()["field"] == "area", unknown.text
    answer = chain.post("/plans", json=body, headers=key_for("dispatcher", areas=["sh"]))
    assert answer.status_code == 202, answer.text
    assert answer.json()["area_code"] == "sh"


def test_publishing_one_area_leaves_the_others_plan_and_orders_untouched(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """Publishing Chengdu's plans never supersedes Shanghai's or changes its orders."""
    planner = key_for("dispatcher")
    shanghai = store_solved(chain, DAY, area="sh")
    publish(chain, planner, shanghai)
    sh_orders, sh_plans = statuses(chain, "sh"), plan_rows(chain, "sh")
    assert set(sh_orders.values()) == {"planned"}
    first = store_solved(chain, DAY, area="cd")
    publish(chain, planner, first)
    second = store_solved(chain, DAY, area="cd")
    published = publish(chain, planner, second)
    assert plan_rows(chain, "cd")[first][0] == "superseded"
    assert plan_rows(chain, "sh") == sh_plans
    assert statuses(chain, "sh") == sh_orders
    changes = chain.get(f"/plans/{second}/changes", headers=planner).json()
    assert changes[-1]["detail"]["superseded"] == [first], published


def test_replanning_one_area_leaves_the_others_plans_untouched(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """A new job, a re-optimisation and an edit of Chengdu leave Shanghai's draft as it was."""
    planner = key_for("dispatcher")
    shanghai = plan_job(chain, planner, "sh")["plan_id"]
    chengdu = plan_job(chain, planner, "cd")["plan_id"]
    before = plan_rows(chain, "sh")
    newer = plan_job(chain, planner, "cd")["plan_id"]
    assert plan_rows(chain, "cd")[chengdu][0] == "superseded"
    version = plan_rows(chain, "cd")[newer][1]
    body = {"time_limit_s": 1}
    answer = chain.post(
        f"/plans/{newer}/reoptimize", json=body, headers=planner | if_match(version)
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["routes"]) <= {"CD1"}
    assert plan_rows(chain, "sh") == before
    assert before[shanghai][0] == PlanStatus.DRAFT.value


def test_a_move_onto_another_areas_truck_is_refused_naming_the_vehicle(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """Crews never cross areas: moving a Chengdu visit onto Shanghai's truck is a 422."""
    planner = key_for("dispatcher")
    chengdu = store_solved(chain, DAY, area="cd")
    body = {"order": "CD-1", "vehicle_code": "SH1"}
    answer = chain.post(f"/plans/{chengdu}/moves", json=body, headers=planner | if_match(1))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "vehicle_code"
    assert plan_rows(chain, "cd")[chengdu] == ("draft", 1)


def test_an_areas_cash_cap_binds_its_plan_only(
    chain: TestClient, admin: dict[str, str], key_for: KeyMaker
) -> None:
    """Chengdu's lower cash cap leaves its ¥1,000 order off; Shanghai plans under the chain's."""
    answer = chain.patch("/areas/cd", json={"cash_cap_cny": 800}, headers=admin)
    assert answer.status_code == 200, answer.text
    planner = key_for("dispatcher")
    plans = {
        area: chain.get(f"/plans/{plan_job(chain, planner, area)['plan_id']}", headers=planner)
        for area in AREAS
    }
    chengdu, shanghai = plans["cd"].json(), plans["sh"].json()
    assert [u["external_id"] for u in chengdu["unassigned"]] == ["CD-3"]  # ¥1,000 to collect
    assert "CD-3" not in routed(chengdu)["CD1"]
    assert not shanghai["unassigned"] and len(routed(shanghai)["SH1"]) == 2


def test_an_areas_slot_hours_shape_its_visits_windows(
    chain: TestClient, admin: dict[str, str]
) -> None:
    """Shanghai's own morning hours are its morning visits' windows; Chengdu keeps the chain's."""
    answer = chain.patch(
        "/areas/sh", json={"morning_start": "08:00", "morning_end": "11:00"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    settings = chain.app.state.settings  # type: ignore[attr-defined]
    with Session(engine_of(chain)) as session:
        windows = {}
        for area in AREAS:
            local = local_settings(session=session, settings=settings, area=area)
            day = planning_input(session=session, date=DAY, settings=local, area=area)
            windows[area] = {v.id: (v.tw_start, v.tw_end) for v in day.data.visits}
    assert windows["sh"]["SH-1"] == (8 * 3600, 11 * 3600)
    assert windows["cd"]["CD-1"] != windows["sh"]["SH-1"]
    assert set(windows["cd"]) == set(ORDERS["cd"]) and set(windows["sh"]) == set(ORDERS["sh"])


def test_a_plans_map_is_drawn_with_its_own_areas_depot_only(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """Chengdu's map shows Chengdu's depot and truck, never Shanghai's."""
    chengdu = store_solved(chain, DAY, area="cd")
    page = chain.get(f"/plans/{chengdu}/map.html", headers=key_for("warehouse")).text
    assert "WH-CD" in page and "CD1" in page
    assert "WH-SH" not in page and "SH1" not in page


def test_an_areas_publish_cutoff_decides_whether_its_plan_is_late(
    chain: TestClient, settings: ServiceSettings, admin: dict[str, str]
) -> None:
    """At 16:30 the day before, Chengdu (cut-off 16:00) publishes late, Shanghai (17:00) in time."""
    answer = chain.patch("/areas/cd", json={"publish_cutoff": "16:00"}, headers=admin)
    assert answer.status_code == 200, answer.text
    plans = {area: store_solved(chain, DAY, area=area) for area in AREAS}
    evening = dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(16, 30), tzinfo=ZONE)
    with app_at(settings, evening) as late:
        warnings = {area: publish(late, admin, plans[area])["warnings"] for area in AREAS}
    assert len(warnings["cd"]) == 1 and "16:00" in warnings["cd"][0], warnings
    assert warnings["sh"] == []

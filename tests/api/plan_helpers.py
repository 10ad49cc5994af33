"""A stored plan to edit and export, made without the job runner.

The fleet and orders go in through the API; the plan is solved and stored directly, the way
the runner would, so these tests depend only on planning_input, solve and result_rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from prepared import ADMIN, service_settings
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.areas.scope import local_settings
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.main import create_app
from api.orders.models import Order
from api.plans.mapping import result_rows, stored_result
from api.plans.model_input import planning_input
from api.plans.models import (
    Plan,
    PlanChange,
    PlanDeposit,
    PlanRoute,
    PlanStop,
    PlanUnassigned,
)
from fixtures import monaco
from optimizer.check import Violation, check
from optimizer.horizon import first_day
from optimizer.params import SolveParams
from optimizer.solve import solve

ZONE = ZoneInfo("Asia/Shanghai")
# Orders are booked three days ahead, so the service runs as of a fixed morning in the store.
NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZONE)
DAY = dt.date(2026, 11, 27)
# Who serves what in the seeded plan. C02 is small (300 kg, ¥3,000 cash) and does the
# afternoon round, so moving the heavy, the cash-rich or a morning visit onto it breaks a rule.
CREWS = {
    "SO-01": "C01",
    "SO-02": "C01",
    "SO-03": "C01",
    "SO-04": "C02",
    "SO-05": "C02",
    "SO-06": "C02",
}
Item = tuple[str, str, int, float, float]  # sku, name, quantity, kg and m3 per unit
# external id -> slot, customer, cash to collect (CNY), items
ORDERS: dict[str, tuple[str, str, float, list[Item]]] = {
    "SO-01": (
        "morning",
        "张三",
        0,
        [("SOFA-3", "三人沙发", 1, 45, 2.1), ("PIL-1", "抱枕", 2, 0.5, 0.05)],
    ),
    "SO-02": ("morning", "李四", 0, [("WARD-2", "衣柜", 4, 100, 1.2)]),
    "SO-03": ("afternoon", "王五", 4000, [("TBL-1", "茶几", 1, 20, 0.3)]),
    "SO-04": ("morning", "赵六", 0, [("LMP-1", "落地灯", 2, 5, 0.1)]),
    "SO-05": ("afternoon", "钱七", 0, [("CHR-1", "餐椅", 4, 5, 0.2)]),
    "SO-06": ("afternoon", "<b>x</b>", 800, [("BED-1", "床头柜", 2, 15, 0.25)]),
}


# The seeded day moved into Monaco, on the roads of the real extract (fixtures/osm): the
# depot at Fontvieille, then SO-01 .. SO-06; for seed_day's `places`.
MONACO = (
    monaco.FONTVIEILLE,
    monaco.CASINO,
    monaco.PORT,
    monaco.LARVOTTO,
    monaco.MONEGHETTI,
    monaco.JARDIN_EXOTIQUE,
    monaco.CONDAMINE,
)


def app_at(settings: ServiceSettings, moment: dt.datetime = NOW) -> TestClient:
    return TestClient(create_app(settings, clock=Clock(settings.timezone, fixed=moment)))


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def seed_day(
    client: TestClient,
    headers: dict[str, str],
    places: Sequence[tuple[float, float]] = (),
) -> None:
    """A depot, two trucks with crews on DAY, and the six ORDERS, all through the API.

    `places` moves the day elsewhere: the depot, then one place per order in ORDERS' order.
    """

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    depot = {"lat": 30.66, "lon": 104.06}
    if places:
        depot = {"lat": places[0][0], "lon": places[0][1]}
    post("/depots", {"code": "WH", "name": "成华仓", **depot})
    truck = {"depot_code": "WH", "volume_m3": 12}
    post("/vehicles", {**truck, "code": "C01", "name": "川A·12345", "weight_kg": 1000})
    post(
        "/vehicles",
        {**truck, "code": "C02", "name": "川A·67890", "weight_kg": 300, "cash_cap_cny": 3000},
    )
    for name, role, vehicle in (
        ("张伟", "driver", "C01"),
        ("刘洋", "porter", "C01"),
        ("陈静", "driver", "C02"),
    ):
        staff = post("/staff", {"name": name, "phone": "13900139000", "role": role})
        post(
            "/crews",
            {
                "date": DAY.isoformat(),
                "vehicle_code": vehicle,
                "staff_id": staff["id"],
                "role": role,
            },
        )
    for n, external_id in enumerate(ORDERS):
        body = order_body(external_id, n)
        if places:
            body["lat"], body["lon"] = places[n + 1]
        post("/orders", body)


def order_body(external_id: str, n: int) -> dict[str, Any]:
    slot, customer, cash, items = ORDERS[external_id]
    return {
        "external_id": external_id,
        "customer": customer,
        "phone": f"1380013800{n}",
        "address": f"成都市成华区建设路{n + 1}号",
        "lat": 30.66 + 0.01 * (n % 3),
        "lon": 104.07 + 0.01 * (n // 3),
        "date": DAY.isoformat(),
        "slot": slot,
        "cash_cny": cash,
        "items": [
            {"sku": sku, "name": name, "quantity": qty, "weight_kg": kg, "volume_m3": m3}
            for sku, name, qty, kg, m3 in items
        ],
    }


def store_plan(client: TestClient) -> int:
    """Solve DAY with every order on its CREWS truck and store it as a draft, unpinned."""
    return store_solved(client, DAY, pins=CREWS, everyone=True)


def build_stored_plan(url: str) -> dict[str, Any]:
    """For `prepared_for`: seed_day and store_plan on a service as of NOW; the plan's id."""
    with app_at(service_settings(url)) as client:
        seed_day(client, ADMIN)
        return {"plan_id": store_plan(client)}


def store_solved(
    client: TestClient,
    date: dt.date,
    *,
    pins: dict[str, str] | None = None,
    everyone: bool = False,
    area: str | None = None,
) -> int:
    """Solve `date` as the planning job does (only its own day is kept) and store the draft.

    `everyone` asserts that no visit is left out; `area` may be left out with only one.
    """
    settings = client.app.state.settings  # type: ignore[attr-defined]
    # A solution limit ends the search as soon as the tiny day is planned.
    params = SolveParams(time_limit_s=2, solution_limit=20)
    with Session(engine_of(client)) as session:
        day = planning_input(session=session, date=date, settings=settings, pins=pins, area=area)
        result = first_day(day.data, solve(day.data, params, seed=0))
        assert result.ok and not (everyone and result.unassigned), result.reasons
        plan = Plan(
            area_code=day.area,
            date=date,
            seed=0,
            time_limit_s=params.time_limit_s,
            params=params.as_dict(),
            solver_status=result.status.value,
            objective=result.objective,
            kpis=asdict(result.kpis),
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        rows = result_rows(plan_id=plan.id, result=result, orders=day.orders, banks=day.data.banks)
        session.add_all(rows.every_row)
        session.commit()
        return plan.id


def routes_of(client: TestClient, plan_id: int) -> dict[str, list[str]]:
    """Vehicle -> external ids in route order, as stored."""
    with Session(engine_of(client)) as session:
        query = (
            select(PlanStop, Order)
            .join(Order, col(PlanStop.order_id) == col(Order.id))
            .where(PlanStop.plan_id == plan_id)
            .order_by(col(PlanStop.vehicle_code), col(PlanStop.position))
        )
        routes: dict[str, list[str]] = {}
        for stop, order in session.exec(query):
            routes.setdefault(stop.vehicle_code, []).append(order.external_id)
        return routes


def snapshot(client: TestClient, plan_id: int) -> dict[str, Any]:
    """Everything an edit may touch, to show that a refused one touched nothing."""
    with Session(engine_of(client)) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None

        def rows(table: Any) -> list[dict[str, Any]]:
            query = select(table).where(table.plan_id == plan_id).order_by(table.id)
            return [row.model_dump() for row in session.exec(query)]

        return {
            "plan": plan.model_dump(),
            "routes": rows(PlanRoute),
            "stops": rows(PlanStop),
            "unassigned": rows(PlanUnassigned),
            "deposits": rows(PlanDeposit),
            "changes": rows(PlanChange),
        }


def violations(client: TestClient, plan_id: int) -> list[Violation]:
    """The independent checker's verdict on the stored rows: times, loads, distances and all."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    with Session(engine_of(client)) as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        routes = list(session.exec(select(PlanRoute).where(PlanRoute.plan_id == plan_id)))
        stops = list(session.exec(select(PlanStop).where(PlanStop.plan_id == plan_id)))
        left = list(session.exec(select(PlanUnassigned).where(PlanUnassigned.plan_id == plan_id)))
        banked = list(session.exec(select(PlanDeposit).where(PlanDeposit.plan_id == plan_id)))
        ids = {s.order_id for s in stops} | {u.order_id for u in left}
        external = {
            order.id: order.external_id
            for order in session.exec(select(Order).where(col(Order.id).in_(ids)))
            if order.id is not None
        }
        pins = {external[s.order_id]: s.vehicle_code for s in stops if s.pinned}
        # The area's own settings, as the service checks it: an area may plan on its own roads.
        local = local_settings(session=session, settings=settings, area=plan.area_code)
        day = planning_input(
            session=session, date=plan.date, settings=local, pins=pins, area=plan.area_code
        )
        # Orders the service refused before planning (bad data, off the roads) are not visits.
        left = [row for row in left if external[row.order_id] not in day.refused]
        result = stored_result(
            routes=routes,
            stops=stops,
            unassigned=left,
            external_ids=external,
            kpis=plan.kpis,
            seed=plan.seed,
            deposits=banked,
        )
        return check(day.data, result)


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}

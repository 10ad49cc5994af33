"""Two areas' published days to test the desk on: Chengdu (cd) and Shanghai (sh).

The plans are stored as the planner would store them, one per area, each truck taking its
own area's orders in seeding order: the desk's routes read plans, they do not make them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from area_helpers import AREAS, ORDERS, seed_two_areas
from fastapi.testclient import TestClient
from ledger_helpers import AT, PNG
from plan_helpers import DAY, app_at, engine_of
from prepared import ADMIN, prepared_for, service_settings
from sqlmodel import Session, col, select

from api.orders.models import Order
from api.plans.models import Plan, PlanRoute, PlanStatus, PlanStop

D = DAY.isoformat()
PLACE = {"at": AT, "lat": 30.67, "lon": 104.07}
TRUCK = {code: AREAS[code][5] for code in AREAS}  # area -> its truck
CREW = {code: [f"{TRUCK[code]}-driver", f"{TRUCK[code]}-porter"] for code in AREAS}


def publish_by_hand(client: TestClient, area: str) -> int:
    """The area's published plan of DAY: its truck visits its orders, an hour apart."""
    with Session(engine_of(client)) as session:
        orders = session.exec(
            select(Order).where(col(Order.external_id).in_(ORDERS[area])).order_by(col(Order.id))
        ).all()
        plan = Plan(
            area_code=area,
            date=DAY,
            status=PlanStatus.PUBLISHED,
            solver_status="feasible",
            published_at=dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC),
            published_by="test",
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        truck, start = TRUCK[area], 9 * 3600
        session.add(
            PlanRoute(
                plan_id=plan.id,
                vehicle_code=truck,
                departure=8 * 3600,
                return_time=start + 3600 * (len(orders) + 1),
                distance_m=20_000,
            )
        )
        for position, order in enumerate(orders, start=1):
            at = start + 3600 * (position - 1)
            session.add(
                PlanStop(
                    plan_id=plan.id,
                    vehicle_code=truck,
                    position=position,
                    order_id=order.id or 0,
                    arrival=at,
                    start=at,
                    departure=at + 1800,
                    weight_on_board_g=0,
                    volume_on_board_cm3=0,
                    cash_on_board_fen=0,
                    distance_from_previous_m=5_000,
                )
            )
        session.commit()
        return plan.id


def build_two_area_day(url: str) -> dict[str, Any]:
    """Areas cd and sh seeded and each one's DAY published, built once and copied."""
    with app_at(service_settings(url)) as booking:
        seed_two_areas(booking, ADMIN)
        for area in AREAS:
            publish_by_hand(booking, area)
    return {}


# A module whose `chain` fixture is `on_the_day` takes this as its `prepared_database`:
# the service as of DAY's morning on the two areas' published day.
two_area_day_database = prepared_for("chain", "two_area_day", build_two_area_day)


def post(
    client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str], key: str
) -> Any:
    """A write with its Idempotency-Key; the answer, unchecked."""
    return client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


def count_body(area: str, *, short: bool = False) -> dict[str, Any]:
    """The keeper's count of the area's truck: every sofa, or (short) one missing."""
    ids = ORDERS[area]
    counts = [
        {"order": o, "sku": "SOFA", "quantity": 0 if short and o == ids[-1] else 1} for o in ids
    ]
    return {"keeper_name": "王库管", "at": AT, "counts": counts}


def sign_off_body(amount: float) -> dict[str, Any]:
    return {
        **PLACE,
        "signer_name": "客户",
        "signature_png": PNG,
        "counts": [{"sku": "SOFA", "quantity": 1}],
        "amount_cny": amount,
    }

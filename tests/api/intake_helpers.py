"""A published plan of an area, stored directly: for tests of what reads published plans."""

from __future__ import annotations

from fastapi.testclient import TestClient
from plan_helpers import DAY, engine_of
from sqlmodel import Session, col, select

from api.orders.models import Order
from api.plans.models import Plan, PlanStatus, PlanStop


def publish_area(client: TestClient, area: str) -> None:
    """A published plan of DAY for the area with each of its orders on its truck."""
    with Session(engine_of(client)) as session:
        plan = Plan(area_code=area, date=DAY, status=PlanStatus.PUBLISHED)
        session.add(plan)
        session.flush()
        assert plan.id is not None
        orders = session.exec(select(Order).where(Order.area_code == area).order_by(col(Order.id)))
        for n, order in enumerate(orders, start=1):
            assert order.id is not None
            at = 9 * 3600 + n * 1800
            session.add(
                PlanStop(
                    plan_id=plan.id,
                    vehicle_code=area.upper() + "1",
                    position=n,
                    order_id=order.id,
                    arrival=at,
                    start=at,
                    departure=at + 1200,
                    weight_on_board_g=0,
                    volume_on_board_cm3=0,
                    cash_on_board_fen=0,
                    distance_from_previous_m=1000,
                )
            )
        session.commit()

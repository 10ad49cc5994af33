"""The route map of a stored plan as an HTML page (folium)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from api.auth.models import Role
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.orders.models import OrderItem
from api.plans.drafts import load
from api.plans.mapping import display_input, stored_result
from api.plans.models import Plan
from maps.plan_map import VisitInfo, plan_map

router = APIRouter(tags=["plans"])
Viewer = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE))]


def plan_map_html(*, session: Session, plan_id: RowId, settings: ServiceSettings) -> str:
    stored = load(session, get_or_404(session, Plan, "plan", id=plan_id))
    orders = list(stored.orders.values())
    items: dict[int, list[str]] = {}
    for item in session.exec(select(OrderItem).where(col(OrderItem.order_id).in_(stored.orders))):
        items.setdefault(item.order_id, []).append(f"{item.quantity} × {item.name}")
    data = display_input(session=session, date=stored.plan.date, orders=orders, settings=settings)
    result = stored_result(
        routes=stored.routes,
        stops=stored.stops,
        unassigned=stored.unassigned,
        external_ids=stored.external_ids,
        kpis=stored.plan.kpis,
        seed=stored.plan.seed,
    )
    info = {
        o.external_id: VisitInfo(
            o.customer, o.address, o.phone, o.slot.value, tuple(items.get(o.id or 0, ()))
        )
        for o in orders
    }
    page: str = plan_map(data, result, info=info).get_root().render()
    return page


@router.get("/plans/{plan_id}/map.html", response_class=HTMLResponse)
def plan_map_page(plan_id: RowId, session: SessionDep, settings: SettingsDep, _: Viewer) -> str:
    return plan_map_html(session=session, plan_id=plan_id, settings=settings)

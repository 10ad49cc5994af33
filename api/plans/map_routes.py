"""The route map of a stored plan as an HTML page (folium)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from api.areas.scope import check_scope, local_settings
from api.auth.models import Role
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.headers import framed_map
from api.core.roads import road_paths
from api.orders.models import Order, OrderItem
from api.pages.assets import map_background
from api.plans.drafts import load
from api.plans.mapping import stored_result
from api.plans.model_input import display_input
from api.plans.models import Plan
from maps.plan_map import VisitInfo, plan_map

router = APIRouter(tags=["plans"])
Viewer = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE))]


def visit_info(session: Session, orders: Sequence[Order]) -> dict[str, VisitInfo]:
    """What a map's popups say about each order: customer, address, phone, slot, items."""
    items: dict[int, list[str]] = {}
    ids = [order.id for order in orders]
    for item in session.exec(select(OrderItem).where(col(OrderItem.order_id).in_(ids))):
        items.setdefault(item.order_id, []).append(f"{item.quantity} × {item.name}")
    return {
        o.external_id: VisitInfo(
            o.customer, o.address, o.phone, o.slot.value, tuple(items.get(o.id or 0, ()))
        )
        for o in orders
    }


def plan_map_html(
    *,
    session: Session,
    plan_id: RowId,
    settings: ServiceSettings,
    principal: Principal | None = None,
) -> str:
    """The plan's map, drawn with its area's depots and fleet; 403 for a key outside it."""
    plan = get_or_404(session, Plan, "plan", id=plan_id)
    if principal is not None:
        check_scope(principal, plan.area_code)
    stored = load(session, plan)
    orders = list(stored.orders.values())
    local = local_settings(session=session, settings=settings, area=plan.area_code)
    data = display_input(
        session=session,
        date=plan.date,
        orders=orders,
        settings=local,
        area=plan.area_code,
        deposits=stored.deposits,
    )
    shown = {visit.id for visit in data.visits}
    result = stored_result(
        routes=stored.routes,
        stops=stored.stops,
        # An order refused when planned has no place to show it at.
        unassigned=[row for row in stored.unassigned if stored.external_ids[row.order_id] in shown],
        external_ids=stored.external_ids,
        kpis=stored.plan.kpis,
        seed=stored.plan.seed,
        deposits=stored.deposits,
    )
    fmap = plan_map(
        data,
        result,
        info=visit_info(session, orders),
        background=map_background(settings),
        roads=road_paths(local),
    )
    page: str = fmap.get_root().render()
    return page


@router.get("/plans/{plan_id}/map.html", response_class=HTMLResponse)
def plan_map_page(
    plan_id: RowId, session: SessionDep, settings: SettingsDep, principal: Viewer
) -> HTMLResponse:
    page = plan_map_html(session=session, plan_id=plan_id, settings=settings, principal=principal)
    return framed_map(page, tiles=settings.map_tiles)

"""The crew's own route map on the driver's page: its stops, its bank stops, its depots."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from api.core.config import ServiceSettings
from api.core.errors import NotFound
from api.core.roads import road_paths
from api.drivers.service import published_plan
from api.pages.assets import map_background
from api.plans.drafts import load
from api.plans.map_routes import visit_info
from api.plans.mapping import stored_result
from api.plans.model_input import display_input
from maps.plan_map import route_map


def crew_map_html(
    *, session: Session, settings: ServiceSettings, area: str, date: dt.date, vehicle_code: str
) -> str:
    """The folium page of one crew's route on its area's published plan, nothing else."""
    stored = load(session, published_plan(session=session, date=date, area=area))
    routes = [route for route in stored.routes if route.vehicle_code == vehicle_code]
    if not routes:
        raise NotFound(f"crew {vehicle_code} has no stops on {date}")
    stops = [stop for stop in stored.stops if stop.vehicle_code == vehicle_code]
    deposits = [row for row in stored.deposits if row.vehicle_code == vehicle_code]
    orders = [stored.orders[stop.order_id] for stop in stops]
    data = display_input(
        session=session, date=date, orders=orders, settings=settings, area=area, deposits=deposits
    )
    result = stored_result(
        routes=routes,
        stops=stops,
        unassigned=(),
        external_ids=stored.external_ids,
        kpis=stored.plan.kpis,
        seed=stored.plan.seed,
        deposits=deposits,
    )
    fmap = route_map(
        data,
        result,
        vehicle_code,
        info=visit_info(session, orders),
        background=map_background(settings),
        roads=road_paths(settings),
    )
    page: str = fmap.get_root().render()
    return page

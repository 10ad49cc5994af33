"""The driver's phone page and their crew's route map. A driver sees only their own crew."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from api.areas.models import Area
from api.areas.scope import in_scope
from api.areas.service import area_settings
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.config import ServiceSettings
from api.core.deps import SessionDep, SettingsDep
from api.core.errors import NotFound
from api.core.headers import framed_map
from api.fleet.models import Depot, Vehicle
from api.pages.access import DriverPage, PageForbidden
from api.pages.driver_map import crew_map_html
from api.pages.driver_view import WORDS, driver_view, page_context, requested_crew
from api.pages.templating import message_page, render

router = APIRouter(prefix="/app", tags=["pages"], include_in_schema=False)
DateQuery = Annotated[dt.date | None, Query(description="default: today")]
VehicleQuery = Annotated[str | None, Query(max_length=32, description="dispatchers pick a crew")]


@dataclass(frozen=True)
class CrewDay:
    """Who is looking, at which crew (a driver: always their own), in which area (None: no
    crew, or no such vehicle), on which day (by default the area's today), and the settings
    in force there."""

    principal: Principal
    crew: str | None
    area: str | None
    date: dt.date
    settings: ServiceSettings


def crew_day(
    principal: DriverPage,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    date: DateQuery = None,
    vehicle: VehicleQuery = None,
) -> CrewDay:
    crew = requested_crew(principal=principal, vehicle=vehicle)
    area = _area_of(session, crew) if crew else None
    if area is None:
        return CrewDay(principal, crew, None, date or clock.today(), settings)
    if not in_scope(principal, area.code):
        raise PageForbidden(
            f"crew {crew} is in area {area.code}, outside this key's scope", principal
        )
    local = area_settings(settings, area)
    return CrewDay(principal, crew, area.code, date or clock.today_in(local.timezone), local)


def _area_of(session: Session, vehicle_code: str) -> Area | None:
    """The vehicle's area, read in one query: the phone page keeps to a fixed budget."""
    return session.exec(
        select(Area)
        .join(Depot, col(Depot.area_code) == col(Area.code))
        .join(Vehicle, col(Vehicle.depot_code) == col(Depot.code))
        .where(Vehicle.code == vehicle_code)
    ).first()


CrewDayDep = Annotated[CrewDay, Depends(crew_day)]


@router.get("/driver", response_class=HTMLResponse)
def driver_page(request: Request, day: CrewDayDep, session: SessionDep) -> Response:
    view = driver_view(
        session=session,
        settings=day.settings,
        principal=day.principal,
        date=day.date,
        vehicle_code=day.crew,
        area=day.area,
    )
    return render(request, "driver.html", WORDS, principal=day.principal, **page_context(view))


@router.get("/driver/map.html", response_class=HTMLResponse)
def driver_map(request: Request, day: CrewDayDep, session: SessionDep) -> Response:
    try:
        if day.crew is None:
            raise NotFound("name the crew with ?vehicle=")
        if day.area is None:
            raise NotFound(f"vehicle code={day.crew!r} not found")
        page = crew_map_html(
            session=session,
            settings=day.settings,
            area=day.area,
            date=day.date,
            vehicle_code=day.crew,
        )
    except NotFound as missing:
        return message_page(
            request, principal=day.principal, status_code=404, message=missing.message, words=WORDS
        )
    return framed_map(page, tiles=day.settings.map_tiles)

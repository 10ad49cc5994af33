"""The driver's phone page and their crew's route map. A driver sees only their own crew."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep
from api.core.errors import NotFound
from api.core.headers import framed_map
from api.pages.access import DriverPage
from api.pages.driver_view import WORDS, crew_map_html, driver_view, page_context, requested_crew
from api.pages.templating import message_page, render

router = APIRouter(prefix="/app", tags=["pages"], include_in_schema=False)
DateQuery = Annotated[dt.date | None, Query(description="default: today")]
VehicleQuery = Annotated[str | None, Query(max_length=32, description="dispatchers pick a crew")]


@dataclass(frozen=True)
class CrewDay:
    """Who is looking, at which crew (a driver: always their own) and on which day."""

    principal: Principal
    crew: str | None
    date: dt.date


def crew_day(
    principal: DriverPage, clock: ClockDep, date: DateQuery = None, vehicle: VehicleQuery = None
) -> CrewDay:
    crew = requested_crew(principal=principal, vehicle=vehicle)
    return CrewDay(principal=principal, crew=crew, date=date or clock.today())


CrewDayDep = Annotated[CrewDay, Depends(crew_day)]


@router.get("/driver", response_class=HTMLResponse)
def driver_page(
    request: Request, day: CrewDayDep, session: SessionDep, settings: SettingsDep
) -> Response:
    view = driver_view(
        session=session,
        settings=settings,
        principal=day.principal,
        date=day.date,
        vehicle_code=day.crew,
    )
    return render(request, "driver.html", WORDS, principal=day.principal, **page_context(view))


@router.get("/driver/map.html", response_class=HTMLResponse)
def driver_map(
    request: Request, day: CrewDayDep, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        if day.crew is None:
            raise NotFound("name the crew with ?vehicle=")
        page = crew_map_html(
            session=session, settings=settings, date=day.date, vehicle_code=day.crew
        )
    except NotFound as missing:
        return message_page(
            request, principal=day.principal, status_code=404, message=missing.message, words=WORDS
        )
    return framed_map(page, tiles=settings.map_tiles)

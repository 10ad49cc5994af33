"""The driver's own route. A driver key names its vehicle; other crews stay invisible."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.areas.scope import local_settings
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep, require
from api.core.errors import Forbidden, RuleBroken
from api.drivers import service
from api.drivers.models import DriverRoutePublic
from api.records.access import crew_area

router = APIRouter(prefix="/driver", tags=["driver"])
Crew = Annotated[Principal, Depends(require(Role.DRIVER, Role.DISPATCHER))]


@router.get("/route", response_model=DriverRoutePublic)
def my_route(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Crew,
    date: Annotated[dt.date | None, Query(description="default: today")] = None,
    vehicle: Annotated[str | None, Query(description="dispatchers pick a crew")] = None,
) -> DriverRoutePublic:
    if principal.role is Role.DRIVER:
        if vehicle is not None and vehicle != principal.vehicle_code:
            raise Forbidden("a driver sees only their own crew's route")
        vehicle = principal.vehicle_code
    if vehicle is None:
        raise RuleBroken("name the crew's vehicle", field="vehicle")
    area = crew_area(session, principal, vehicle)
    local = local_settings(session=session, settings=settings, area=area)
    return service.crew_route(
        session=session,
        settings=local,
        # "Today" is the crew's own: the area's wall clock, not the chain's.
        date=date or clock.today_in(local.timezone),
        vehicle_code=vehicle,
        area=area,
    )

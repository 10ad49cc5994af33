"""Delivery KPIs over a date range, as JSON or as CSV for Excel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.areas.scope import AreaQuery, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep, require
from api.core.responses import csv_download
from api.kpis import export, service
from api.kpis.models import KpiReportPublic

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.FINANCE))]
# "from" is a Python keyword, so the parameters take it as an alias.
From = Annotated[dt.date, Query(alias="from")]
To = Annotated[dt.date, Query(alias="to")]


@router.get("/kpis.csv", response_class=Response)
def kpis_csv(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Reader,
    start: From,
    end: To,
    area: AreaQuery = None,
) -> Response:
    """The same report as /kpis: the crews' table, the technicians', the tickets'."""
    areas = resolve_areas(session=session, principal=who, area=area)
    report = service.kpis(
        session=session, settings=settings, areas=areas, start=start, end=end, now=clock.now()
    )
    filename = f"kpis-{start.isoformat()}-{end.isoformat()}.csv"
    return csv_download(export.kpis_csv(report), filename)


@router.get("/kpis", response_model=KpiReportPublic)
def kpis(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Reader,
    start: From,
    end: To,
    area: AreaQuery = None,
) -> KpiReportPublic:
    """Per crew and in total over the published plans of the range: on time per slot,
    delivery success, satisfaction, installs within their window; per technician; and
    the response times of the tickets opened in the range. Each rate with its counts.

    Of the area named, else of every area the key sees, summed, each area's own in by_area."""
    areas = resolve_areas(session=session, principal=who, area=area)
    return service.kpis(
        session=session, settings=settings, areas=areas, start=start, end=end, now=clock.now()
    )

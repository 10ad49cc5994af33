"""Delivery KPIs over a date range, as JSON or as CSV for Excel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import SessionDep, SettingsDep, require
from api.core.responses import csv_download
from api.kpis import service
from api.kpis.models import KpiReportPublic

router = APIRouter(tags=["reports"])
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.FINANCE))]
# "from" is a Python keyword, so the parameters take it as an alias.
From = Annotated[dt.date, Query(alias="from")]
To = Annotated[dt.date, Query(alias="to")]


@router.get("/kpis.csv", response_class=Response)
def kpis_csv(
    session: SessionDep, settings: SettingsDep, _: Reader, start: From, end: To
) -> Response:
    report = service.kpis(session=session, settings=settings, start=start, end=end)
    filename = f"kpis-{start.isoformat()}-{end.isoformat()}.csv"
    return csv_download(service.kpis_csv(report), filename)


@router.get("/kpis", response_model=KpiReportPublic)
def kpis(
    session: SessionDep, settings: SettingsDep, _: Reader, start: From, end: To
) -> KpiReportPublic:
    """Per crew and in total over the published plans of the range: on time per slot,
    delivery success, satisfaction, installs on their planned date; each with its counts."""
    return service.kpis(session=session, settings=settings, start=start, end=end)

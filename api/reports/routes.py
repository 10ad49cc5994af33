"""Report endpoints: the daily delivery report (送货日报表) as JSON or as CSV for Excel."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.areas.scope import AreaQuery, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import SessionDep, SettingsDep, require
from api.core.responses import csv_download
from api.reports import service, technicians
from api.reports.models import DailyReportPublic, TechnicianReportPublic

router = APIRouter(prefix="/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.FINANCE))]
# The service manager reviews the technicians' reports (服务作业程序, articles 10-12).
ServiceReader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.FINANCE, Role.MANAGER))]


def _csv(report: DailyReportPublic) -> Response:
    filename = f"daily-report-{report.date.isoformat()}.csv"
    return csv_download(service.daily_report_csv(report), filename)


# Declared before the JSON route: "2026-11-27.csv" would otherwise reach it as a bad date.
@router.get("/daily/{date}.csv", response_class=Response)
def daily_report_csv(
    date: dt.date, session: SessionDep, settings: SettingsDep, who: Reader, area: AreaQuery = None
) -> Response:
    areas = resolve_areas(session=session, principal=who, area=area)
    return _csv(service.daily_report(session=session, settings=settings, areas=areas, date=date))


@router.get(
    "/daily/{date}",
    response_model=DailyReportPublic,
    responses={200: {"content": {"text/csv": {}}}},
)
def daily_report(
    date: dt.date,
    session: SessionDep,
    settings: SettingsDep,
    who: Reader,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    area: AreaQuery = None,
) -> DailyReportPublic | Response:
    """Per crew and in total: stops delivered, partial, failed (by reason), not reported;
    arrivals on time, early or late against the slot; planned km; cash expected and paid in.

    Of the area named, else of every area the key sees, summed, with each area's own total
    in by_area."""
    areas = resolve_areas(session=session, principal=who, area=area)
    report = service.daily_report(session=session, settings=settings, areas=areas, date=date)
    return _csv(report) if format == "csv" else report


@router.get(
    "/technicians",
    response_model=TechnicianReportPublic,
    responses={200: {"content": {"text/csv": {}}}},
)
def technician_report(
    date: dt.date,
    session: SessionDep,
    who: ServiceReader,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    area: AreaQuery = None,
) -> TechnicianReportPublic | Response:
    """技术员工作日报表: per technician, each visit of the day with its service type, time on
    site, parts, and fee charged and collected; totals per technician, per area and in all.

    Of the area named, else of every area the key sees."""
    areas = resolve_areas(session=session, principal=who, area=area)
    report = technicians.technician_report(session=session, areas=areas, date=date)
    if format == "json":
        return report
    filename = f"technician-report-{date.isoformat()}.csv"
    return csv_download(technicians.technician_report_csv(report), filename)

"""Export endpoints: dispatch sheets and picking lists as CSV (Excel) or printable HTML."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.responses import csv_download
from api.exports import service

router = APIRouter(tags=["exports"])
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE))]
Format = Literal["csv", "html"]


def _sheet(session: SessionDep, settings: SettingsDep, plan_id: RowId, form: Format) -> Response:
    sheet = service.dispatch_sheet(session=session, settings=settings, plan_id=plan_id)
    if form == "html":
        return HTMLResponse(service.dispatch_sheet_html(sheet))
    filename = f"dispatch-sheet-{sheet.date.isoformat()}-plan-{plan_id}.csv"
    return csv_download(service.dispatch_sheet_csv(sheet), filename)


@router.get("/plans/{plan_id}/dispatch-sheet.csv", response_class=Response)
def dispatch_sheet_csv(
    plan_id: RowId, session: SessionDep, settings: SettingsDep, _: Reader
) -> Response:
    return _sheet(session, settings, plan_id, "csv")


@router.get("/plans/{plan_id}/dispatch-sheet.html", response_class=HTMLResponse)
def dispatch_sheet_html(
    plan_id: RowId, session: SessionDep, settings: SettingsDep, _: Reader
) -> Response:
    return _sheet(session, settings, plan_id, "html")


@router.get("/dispatch-sheet", response_class=Response)
def published_dispatch_sheet(
    session: SessionDep,
    settings: SettingsDep,
    _: Reader,
    date: Annotated[dt.date, Query()],
    format: Annotated[Format, Query()] = "html",
) -> Response:
    """The date's published plan, the one the crews drive."""
    plan_id = service.published_plan_id(session=session, date=date)
    return _sheet(session, settings, plan_id, format)


@router.get("/plans/{plan_id}/picking-lists.csv", response_class=Response)
def picking_lists_csv(
    plan_id: RowId,
    session: SessionDep,
    _: Reader,
    vehicle: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    lists = service.picking_lists(session=session, plan_id=plan_id, vehicle=vehicle)
    suffix = f"-{vehicle}" if vehicle else ""
    filename = f"picking-lists-{lists.date.isoformat()}-plan-{plan_id}{suffix}.csv"
    return csv_download(service.picking_lists_csv(lists), filename)


@router.get("/plans/{plan_id}/picking-lists.html", response_class=HTMLResponse)
def picking_lists_html(
    plan_id: RowId,
    session: SessionDep,
    _: Reader,
    vehicle: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    lists = service.picking_lists(session=session, plan_id=plan_id, vehicle=vehicle)
    return HTMLResponse(service.picking_lists_html(lists))

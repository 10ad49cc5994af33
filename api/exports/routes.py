"""Export endpoints: dispatch sheets and picking lists as CSV (Excel) or printable HTML.

A plan's paper is its area's: a key outside the plan's area gets 403."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from api.areas.scope import AreaQuery, check_scope, local_settings, resolve_area
from api.auth.models import Role
from api.auth.service import Principal
from api.core.crud import get_or_404
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.responses import csv_download
from api.exports import service
from api.plans.models import Plan

router = APIRouter(tags=["exports"])
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE))]
Format = Literal["csv", "html"]


def _area_of(session: SessionDep, who: Principal, plan_id: int) -> str:
    """The plan's area, which must be in the key's scope; 404 for no such plan."""
    area = get_or_404(session, Plan, "plan", id=plan_id).area_code
    check_scope(who, area)
    return area


def _sheet(
    session: SessionDep, settings: SettingsDep, who: Principal, plan_id: int, form: Format
) -> Response:
    area = _area_of(session, who, plan_id)
    # Slot windows are printed as the plan's area keeps them.
    local = local_settings(session=session, settings=settings, area=area)
    sheet = service.dispatch_sheet(session=session, settings=local, plan_id=plan_id)
    if form == "html":
        return HTMLResponse(service.dispatch_sheet_html(sheet))
    filename = f"dispatch-sheet-{sheet.date.isoformat()}-plan-{plan_id}.csv"
    return csv_download(service.dispatch_sheet_csv(sheet), filename)


@router.get("/plans/{plan_id}/dispatch-sheet.csv", response_class=Response)
def dispatch_sheet_csv(
    plan_id: RowId, session: SessionDep, settings: SettingsDep, who: Reader
) -> Response:
    return _sheet(session, settings, who, plan_id, "csv")


@router.get("/plans/{plan_id}/dispatch-sheet.html", response_class=HTMLResponse)
def dispatch_sheet_html(
    plan_id: RowId, session: SessionDep, settings: SettingsDep, who: Reader
) -> Response:
    return _sheet(session, settings, who, plan_id, "html")


@router.get("/dispatch-sheet", response_class=Response)
def published_dispatch_sheet(
    session: SessionDep,
    settings: SettingsDep,
    who: Reader,
    date: Annotated[dt.date, Query()],
    format: Annotated[Format, Query()] = "html",
    area: AreaQuery = None,
) -> Response:
    """The area's published plan of the date, the one its crews drive."""
    chosen = resolve_area(session=session, principal=who, area=area)
    plan_id = service.published_plan_id(session=session, date=date, area=chosen)
    return _sheet(session, settings, who, plan_id, format)


@router.get("/plans/{plan_id}/picking-lists.csv", response_class=Response)
def picking_lists_csv(
    plan_id: RowId,
    session: SessionDep,
    who: Reader,
    vehicle: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    _area_of(session, who, plan_id)
    lists = service.picking_lists(session=session, plan_id=plan_id, vehicle=vehicle)
    suffix = f"-{vehicle}" if vehicle else ""
    filename = f"picking-lists-{lists.date.isoformat()}-plan-{plan_id}{suffix}.csv"
    return csv_download(service.picking_lists_csv(lists), filename)


@router.get("/plans/{plan_id}/picking-lists.html", response_class=HTMLResponse)
def picking_lists_html(
    plan_id: RowId,
    session: SessionDep,
    who: Reader,
    vehicle: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    _area_of(session, who, plan_id)
    lists = service.picking_lists(session=session, plan_id=plan_id, vehicle=vehicle)
    return HTMLResponse(service.picking_lists_html(lists))

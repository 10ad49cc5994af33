"""The dispatcher's board: a date's plan on a map and a timeline, with planning and edits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.areas.scope import in_scope, local_settings, visible
from api.areas.service import list_areas
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep
from api.core.errors import NotFound
from api.pages.access import BoardPage, PageForbidden
from api.pages.board_goods import GOODS_WORDS, overdue_goods
from api.pages.board_kpis import KPI_WORDS, kpi_panel
from api.pages.board_view import WORDS, board, board_date
from api.pages.templating import message_page, render
from api.plans.models import Plan

router = APIRouter(prefix="/app", tags=["pages"], include_in_schema=False)
PAGE_WORDS = {lang: {**WORDS[lang], **KPI_WORDS[lang], **GOODS_WORDS[lang]} for lang in WORDS}


def board_area(
    *, session: Session, principal: Principal, area: str | None, plan_id: int | None
) -> str:
    """The area the board shows: the asked plan's, else the one named, else the first the
    key sees. Never one outside the key's scope: that is a 403 page."""
    asked = session.get(Plan, plan_id) if plan_id is not None else None
    if asked is not None:
        area = asked.area_code
    seen = visible(session=session, principal=principal)
    if area is None:
        if not seen:
            raise PageForbidden("this key sees no planning area", principal)
        return seen[0]
    if not in_scope(principal, area):
        raise PageForbidden(f"area {area} is outside this key's scope", principal)
    if area not in seen:
        raise NotFound(f"area {area} does not exist")
    return area


@router.get("/board", response_class=HTMLResponse)
def board_page(
    request: Request,
    principal: BoardPage,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    date: Annotated[str | None, Query(max_length=32)] = None,
    plan: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    kpi_days: Annotated[int, Query(ge=1, le=31)] = 1,
    area: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """One area's board: the one asked (in scope), or the key's first; a picker offers the
    others the key sees. Plans, crews, the timeline and KPIs are that area's alone."""
    try:
        chosen = board_area(session=session, principal=principal, area=area, plan_id=plan)
        local = local_settings(session=session, settings=settings, area=chosen)
        today = clock.today_in(local.timezone)
        day, understood = board_date(date, today=today)
        seen = tuple(visible(session=session, principal=principal))
        view = board(
            session=session,
            settings=local,
            area=chosen,
            areas=[(row.code, row.name) for row in list_areas(session=session, codes=seen)],
            date=day,
            today=today,
            plan_id=plan,
        )
        goods = overdue_goods(session=session, settings=local, area=chosen, today=today)
    except NotFound as missing:
        return message_page(
            request, principal=principal, status_code=404, message=missing.message, words=WORDS
        )
    panel = kpi_panel(
        request=request,
        session=session,
        settings=settings,
        area=chosen,
        date=view.date,
        days=kpi_days,
        now=clock.now(),
    )
    return render(
        request,
        "board.html",
        PAGE_WORDS,
        principal=principal,
        view=view,
        kpi=panel,
        goods=goods,
        bad_date=not understood,
    )

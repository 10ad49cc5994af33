"""The dispatcher's board: a date's plan on a map and a timeline, with planning and edits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep
from api.core.errors import NotFound
from api.pages.access import BoardPage
from api.pages.board_kpis import KPI_WORDS, kpi_panel
from api.pages.board_view import WORDS, board, board_date
from api.pages.templating import message_page, render

router = APIRouter(prefix="/app", tags=["pages"], include_in_schema=False)
PAGE_WORDS = {lang: {**WORDS[lang], **KPI_WORDS[lang]} for lang in WORDS}


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
) -> Response:
    today = clock.today()
    day, understood = board_date(date, today=today)
    try:
        view = board(session=session, settings=settings, date=day, today=today, plan_id=plan)
    except NotFound as missing:
        return message_page(
            request, principal=principal, status_code=404, message=missing.message, words=WORDS
        )
    panel = kpi_panel(
        request=request,
        session=session,
        settings=settings,
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
        bad_date=not understood,
    )

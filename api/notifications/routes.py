"""Customer notifications over HTTP: generate the outbox, send it, look into it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.areas.scope import AreaQuery, local_settings, resolve_area, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep, require
from api.notifications import service
from api.notifications.models import (
    DeliverResult,
    GenerateResult,
    MessageKind,
    MessagePublic,
    MessageStatus,
)
from api.notifications.senders import sender_for

router = APIRouter(prefix="/notifications", tags=["notifications"])
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Language = Annotated[str, Query(max_length=8, description="zh (default) or en")]


@router.post("/day-before/{date}", response_model=GenerateResult)
def day_before(
    date: dt.date,
    session: SessionDep,
    settings: SettingsDep,
    who: Dispatcher,
    area: AreaQuery = None,
    language: Language = "zh",
) -> GenerateResult:
    area = resolve_area(session=session, principal=who, area=area)
    local = local_settings(session=session, settings=settings, area=area)
    return service.day_before(
        session=session, settings=local, date=date, area=area, language=language
    )


@router.post("/due", response_model=GenerateResult)
def due(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    who: Dispatcher,
    area: AreaQuery = None,
    now: Annotated[dt.datetime | None, Query(description="ISO 8601; the service clock")] = None,
    language: Language = "zh",
) -> GenerateResult:
    area = resolve_area(session=session, principal=who, area=area)
    local = local_settings(session=session, settings=settings, area=area)
    return service.due_notices(
        session=session, settings=local, now=now or clock.now(), area=area, language=language
    )


@router.post("/deliver", response_model=DeliverResult)
def deliver(
    session: SessionDep, settings: SettingsDep, who: Dispatcher, area: AreaQuery = None
) -> DeliverResult:
    """Sends the pending messages of the areas in the key's scope, or of the one named."""
    areas = resolve_areas(session=session, principal=who, area=area)
    return service.deliver_pending(session=session, sender=sender_for(settings), areas=areas)


@router.get("", response_model=list[MessagePublic])
def list_messages(
    session: SessionDep,
    who: Dispatcher,
    area: AreaQuery = None,
    date: Annotated[dt.date | None, Query()] = None,
    message_status: Annotated[MessageStatus | None, Query(alias="status")] = None,
    kind: Annotated[MessageKind | None, Query()] = None,
) -> object:
    areas = resolve_areas(session=session, principal=who, area=area)
    return service.list_messages(
        session=session, areas=areas, date=date, status=message_status, kind=kind
    )

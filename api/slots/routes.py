"""Bookable slots: asked by the order system before it books, and by dispatchers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.areas.scope import AreaQuery, local_settings
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import SessionDep, SettingsDep, require
from api.slots import service
from api.slots.models import SlotOffer, SlotQuery

router = APIRouter(tags=["slots"])
Asker = Annotated[Principal, Depends(require(Role.ORDER_SYSTEM, Role.DISPATCHER))]


@router.get("/slots", response_model=list[SlotOffer])
def offer_slots(
    query: Annotated[SlotQuery, Query()],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Asker,
    area: AreaQuery = None,
) -> object:
    service.check_query(settings=settings, query=query)
    area = service.offer_area(
        session=session, settings=settings, principal=principal, area=area, query=query
    )
    local = local_settings(session=session, settings=settings, area=area)
    return service.offer_slots(
        session=session, settings=local, now=clock.now(), query=query, area=area
    )

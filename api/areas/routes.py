"""Planning areas: the chain's admins set them up; every key lists the areas it sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.areas import service
from api.areas.models import AreaCreate, AreaPublic, AreaUpdate
from api.areas.scope import check_scope, visible
from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import SessionDep, SettingsDep, require

router = APIRouter(prefix="/areas", tags=["areas"])
Admin = Annotated[Principal, Depends(require())]
Reader = Annotated[
    Principal,
    Depends(require(Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE, Role.ORDER_SYSTEM)),
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AreaPublic)
def create_area(
    body: AreaCreate, session: SessionDep, settings: SettingsDep, who: Admin
) -> AreaPublic:
    # A scoped admin manages its own areas; only a chain-wide one adds new ones.
    check_scope(who, body.code)
    area = service.create_area(session=session, settings=settings, request=body)
    return service.public(session=session, settings=settings, area=area)


@router.get("", response_model=list[AreaPublic])
def list_areas(session: SessionDep, settings: SettingsDep, who: Reader) -> list[AreaPublic]:
    codes = tuple(visible(session=session, principal=who))
    areas = service.list_areas(session=session, codes=codes)
    return [service.public(session=session, settings=settings, area=area) for area in areas]


@router.get("/{code}", response_model=AreaPublic)
def get_area(code: str, session: SessionDep, settings: SettingsDep, who: Reader) -> AreaPublic:
    check_scope(who, code)
    area = service.get_area(session=session, code=code)
    return service.public(session=session, settings=settings, area=area)


@router.patch("/{code}", response_model=AreaPublic)
def update_area(
    code: str, body: AreaUpdate, session: SessionDep, settings: SettingsDep, who: Admin
) -> AreaPublic:
    check_scope(who, code)
    area = service.update_area(session=session, settings=settings, code=code, request=body)
    return service.public(session=session, settings=settings, area=area)

"""Bank branches: an area's desk keeps its own; planning, pages and finance read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.areas.scope import AreaQuery, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.banks import service
from api.banks.models import BankBranchCreate, BankBranchPublic, BankBranchUpdate
from api.core.deps import SessionDep, SettingsDep, require

router = APIRouter(tags=["banks"])
Editor = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))]


@router.post("/banks", status_code=status.HTTP_201_CREATED, response_model=BankBranchPublic)
def create_bank(
    body: BankBranchCreate, session: SessionDep, settings: SettingsDep, principal: Editor
) -> object:
    return service.create_bank(session=session, settings=settings, bank=body, principal=principal)


@router.get("/banks", response_model=list[BankBranchPublic])
def list_banks(
    session: SessionDep, principal: Reader, area: AreaQuery = None, active_only: bool = False
) -> object:
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.list_banks(session=session, areas=areas, active_only=active_only)


@router.patch("/banks/{code}", response_model=BankBranchPublic)
def update_bank(
    code: str, body: BankBranchUpdate, session: SessionDep, settings: SettingsDep, principal: Editor
) -> object:
    return service.update_bank(
        session=session, settings=settings, code=code, update=body, principal=principal
    )

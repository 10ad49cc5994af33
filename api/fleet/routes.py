"""Fleet endpoints: admins and dispatchers maintain it, planning reads it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.areas.scope import AreaQuery, resolve_areas
from api.auth.models import Role
from api.auth.service import Principal
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.fleet import service
from api.fleet.models import (
    CrewMemberCreate,
    CrewMemberPublic,
    DepotCreate,
    DepotPublic,
    DepotUpdate,
    SkillCreate,
    SkillPublic,
    StaffCreate,
    StaffPublic,
    StaffUpdate,
    VehicleCreate,
    VehiclePublic,
    VehicleUpdate,
)

router = APIRouter(tags=["fleet"])
# Skills are the chain's one vocabulary: every key reads them, any dispatcher adds one.
Editor = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))]
CREATED = status.HTTP_201_CREATED


@router.post("/skills", status_code=CREATED, response_model=SkillPublic)
def create_skill(body: SkillCreate, session: SessionDep, _: Editor) -> object:
    return service.create_skill(session=session, skill=body)


@router.get("/skills", response_model=list[SkillPublic])
def list_skills(session: SessionDep, _: Reader) -> object:
    return service.list_skills(session=session)


@router.post("/depots", status_code=CREATED, response_model=DepotPublic)
def create_depot(
    body: DepotCreate, session: SessionDep, settings: SettingsDep, principal: Editor
) -> object:
    return service.create_depot(session=session, settings=settings, depot=body, principal=principal)


@router.get("/depots", response_model=list[DepotPublic])
def list_depots(session: SessionDep, principal: Reader, area: AreaQuery = None) -> object:
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.list_depots(session=session, areas=areas)


@router.patch("/depots/{code}", response_model=DepotPublic)
def update_depot(
    code: str, body: DepotUpdate, session: SessionDep, settings: SettingsDep, principal: Editor
) -> object:
    return service.update_depot(
        session=session, settings=settings, code=code, update=body, principal=principal
    )


@router.post("/vehicles", status_code=CREATED, response_model=VehiclePublic)
def create_vehicle(
    body: VehicleCreate, session: SessionDep, settings: SettingsDep, principal: Editor
) -> object:
    return service.create_vehicle(
        session=session, settings=settings, vehicle=body, principal=principal
    )


@router.get("/vehicles", response_model=list[VehiclePublic])
def list_vehicles(
    session: SessionDep, principal: Reader, area: AreaQuery = None, active_only: bool = False
) -> object:
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.list_vehicles(session=session, areas=areas, active_only=active_only)


@router.patch("/vehicles/{code}", response_model=VehiclePublic)
def update_vehicle(
    code: str, body: VehicleUpdate, session: SessionDep, settings: SettingsDep, principal: Editor
) -> object:
    return service.update_vehicle(
        session=session, settings=settings, code=code, update=body, principal=principal
    )


@router.post("/staff", status_code=CREATED, response_model=StaffPublic)
def create_staff(body: StaffCreate, session: SessionDep, principal: Editor) -> object:
    return service.create_staff(session=session, staff=body, principal=principal)


@router.get("/staff", response_model=list[StaffPublic])
def list_staff(session: SessionDep, principal: Reader, area: AreaQuery = None) -> object:
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.list_staff(session=session, areas=areas)


@router.patch("/staff/{staff_id}", response_model=StaffPublic)
def update_staff(
    staff_id: RowId, body: StaffUpdate, session: SessionDep, principal: Editor
) -> object:
    return service.update_staff(
        session=session, staff_id=staff_id, update=body, principal=principal
    )


@router.post("/crews", status_code=CREATED, response_model=CrewMemberPublic)
def assign_crew_member(body: CrewMemberCreate, session: SessionDep, principal: Editor) -> object:
    return service.assign_crew_member(session=session, member=body, principal=principal)


@router.get("/crews", response_model=dict[str, list[CrewMemberPublic]])
def crews_on(
    session: SessionDep,
    principal: Reader,
    date: Annotated[dt.date, Query()],
    area: AreaQuery = None,
) -> object:
    areas = resolve_areas(session=session, principal=principal, area=area)
    return service.crews_on(session=session, date=date, areas=areas)


@router.delete("/crews/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_crew_member(member_id: RowId, session: SessionDep, principal: Editor) -> None:
    service.remove_crew_member(session=session, member_id=member_id, principal=principal)

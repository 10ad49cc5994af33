"""Fleet endpoints: admins and dispatchers maintain it, planning reads it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

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
def create_depot(body: DepotCreate, session: SessionDep, _: Editor) -> object:
    return service.create_depot(session=session, depot=body)


@router.get("/depots", response_model=list[DepotPublic])
def list_depots(session: SessionDep, _: Reader) -> object:
    return service.list_depots(session=session)


@router.patch("/depots/{code}", response_model=DepotPublic)
def update_depot(code: str, body: DepotUpdate, session: SessionDep, _: Editor) -> object:
    return service.update_depot(session=session, code=code, update=body)


@router.post("/vehicles", status_code=CREATED, response_model=VehiclePublic)
def create_vehicle(
    body: VehicleCreate, session: SessionDep, settings: SettingsDep, _: Editor
) -> object:
    return service.create_vehicle(session=session, settings=settings, vehicle=body)


@router.get("/vehicles", response_model=list[VehiclePublic])
def list_vehicles(session: SessionDep, _: Reader, active_only: bool = False) -> object:
    return service.list_vehicles(session=session, active_only=active_only)


@router.patch("/vehicles/{code}", response_model=VehiclePublic)
def update_vehicle(
    code: str, body: VehicleUpdate, session: SessionDep, settings: SettingsDep, _: Editor
) -> object:
    return service.update_vehicle(session=session, settings=settings, code=code, update=body)


@router.post("/staff", status_code=CREATED, response_model=StaffPublic)
def create_staff(body: StaffCreate, session: SessionDep, _: Editor) -> object:
    return service.create_staff(session=session, staff=body)


@router.get("/staff", response_model=list[StaffPublic])
def list_staff(session: SessionDep, _: Reader) -> object:
    return service.list_staff(session=session)


@router.patch("/staff/{staff_id}", response_model=StaffPublic)
def update_staff(staff_id: RowId, body: StaffUpdate, session: SessionDep, _: Editor) -> object:
    return service.update_staff(session=session, staff_id=staff_id, update=body)


@router.post("/crews", status_code=CREATED, response_model=CrewMemberPublic)
def assign_crew_member(body: CrewMemberCreate, session: SessionDep, _: Editor) -> object:
    return service.assign_crew_member(session=session, member=body)


@router.get("/crews", response_model=dict[str, list[CrewMemberPublic]])
def crews_on(session: SessionDep, _: Reader, date: Annotated[dt.date, Query()]) -> object:
    return service.crews_on(session=session, date=date)


@router.delete("/crews/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_crew_member(member_id: RowId, session: SessionDep, _: Editor) -> None:
    service.remove_crew_member(session=session, member_id=member_id)

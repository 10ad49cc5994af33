"""Depots, vehicles (trucks and technicians), staff, and who rides which vehicle on which day."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, field_validator, model_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.requests import FINITE
from optimizer.data import VehicleKind

Code = str  # short human code: "WH-N", "C01"


class StaffRole(StrEnum):
    DRIVER = "driver"
    PORTER = "porter"
    LEADER = "leader"
    TECHNICIAN = "technician"


class _Hours(SQLModel):
    @field_validator("opens", "closes", "shift_start", "shift_end", check_fields=False)
    @classmethod
    def _local_time(cls, value: dt.time | None) -> dt.time | None:
        # Hours are the store's wall-clock times; an offset would make them incomparable.
        if value is not None and value.tzinfo is not None:
            raise ValueError("give a local time of day (HH:MM) without a UTC offset")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> _Hours:
        pairs = (("opens", "closes"), ("shift_start", "shift_end"))
        for first, second in pairs:
            start, end = getattr(self, first, None), getattr(self, second, None)
            if start is not None and end is not None and end <= start:
                raise ValueError(f"{second} must be after {first}")
        return self


# SQLModel's own `regex` argument is silently dropped, so the pattern goes through pydantic.
SkillName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class SkillBase(SQLModel):
    name: SkillName
    description: str = Field(default="", max_length=200)


class SkillCreate(SkillBase):
    pass


class Skill(SkillBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True, max_length=64)


class SkillPublic(SkillBase):
    id: int


class DepotBase(_Hours):
    code: Code = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=100)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    opens: dt.time = dt.time(7, 0)
    closes: dt.time = dt.time(20, 0)


class DepotCreate(DepotBase):
    model_config = FINITE
    area_code: str | None = Field(
        default=None, max_length=32, description="its planning area; default: the only one"
    )


class DepotUpdate(_Hours):
    model_config = FINITE
    name: str | None = Field(default=None, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    opens: dt.time | None = None
    closes: dt.time | None = None


class Depot(DepotBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: Code = Field(unique=True, index=True, max_length=32)
    # Vehicles, crews and technicians belong to an area through their depot.
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)


class DepotPublic(DepotBase):
    id: int
    area_code: str


class VehicleBase(_Hours):
    code: Code = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=100, description="plate or crew name")
    kind: VehicleKind = VehicleKind.TRUCK
    depot_code: Code = Field(max_length=32)
    weight_kg: float = Field(gt=0)
    volume_m3: float = Field(gt=0)
    cash_cap_cny: float | None = Field(default=None, gt=0, description="default: the cash cap")
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    shift_start: dt.time = dt.time(7, 30)
    shift_end: dt.time = dt.time(18, 30)
    crew_size: int = Field(default=2, ge=1, le=6)
    active: bool = True


class VehicleCreate(VehicleBase):
    model_config = FINITE


class VehicleUpdate(_Hours):
    model_config = FINITE
    name: str | None = Field(default=None, max_length=100)
    depot_code: Code | None = Field(default=None, max_length=32)
    weight_kg: float | None = Field(default=None, gt=0)
    volume_m3: float | None = Field(default=None, gt=0)
    cash_cap_cny: float | None = Field(default=None, gt=0)
    skills: list[str] | None = None
    shift_start: dt.time | None = None
    shift_end: dt.time | None = None
    crew_size: int | None = Field(default=None, ge=1, le=6)
    active: bool | None = None


class Vehicle(VehicleBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: Code = Field(unique=True, index=True, max_length=32)
    depot_code: Code = Field(foreign_key="depot.code", max_length=32)


class VehiclePublic(VehicleBase):
    id: int
    area_code: str = ""  # its depot's


class StaffBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(default="", max_length=32)
    role: StaffRole
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class StaffCreate(StaffBase):
    area_code: str | None = Field(
        default=None, max_length=32, description="the area they work in; default: the only one"
    )


class StaffUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    role: StaffRole | None = None
    skills: list[str] | None = None


class Staff(StaffBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)


class StaffPublic(StaffBase):
    id: int
    area_code: str


class CrewMemberBase(SQLModel):
    """One person on one vehicle on one day, in a role."""

    date: dt.date
    vehicle_code: Code = Field(max_length=32)
    staff_id: int
    role: StaffRole


class CrewMemberCreate(CrewMemberBase):
    pass


class CrewMember(CrewMemberBase, table=True):
    __tablename__ = "crew_member"
    __table_args__ = (UniqueConstraint("date", "staff_id", name="one_vehicle_per_person_per_day"),)
    id: int | None = Field(default=None, primary_key=True)
    vehicle_code: Code = Field(foreign_key="vehicle.code", max_length=32, index=True)
    staff_id: int = Field(foreign_key="staff.id")


class CrewMemberPublic(CrewMemberBase):
    id: int
    name: str = ""
    phone: str = ""

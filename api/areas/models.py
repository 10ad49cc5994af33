"""Planning areas: what one dispatch desk plans, in its city and time zone.

An area owns its depots, and through them its vehicles, crews and technicians; every order,
plan, job, ticket and record belongs to one. Its optional fields override the chain's
settings where stores differ; None keeps the chain's value.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import StringConstraints, field_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from api.auth.models import utcnow
from optimizer.settings import InstallType

# The area every installation starts with; the upgrade puts existing data into it.
DEFAULT_AREA = "main"
AreaCode = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]
# Store settings an area may override, by name; each is the chain setting of the same name.
OVERRIDES = (
    "morning_start",
    "morning_end",
    "afternoon_start",
    "afternoon_end",
    "booking_lead_days",
    "planning_time",
    "publish_cutoff",
    "cash_cap_cny",
    "install_types",
    "deposits_enabled",
    "matrix_provider",
)
# The area's own city extract: a file name in the chain's `osm_dir`, never a path.
ExtractName = Annotated[
    str,
    StringConstraints(
        max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.osm\.pbf$"
    ),
]
MatrixProviderName = Literal["great_circle", "osrm", "osm"]


class _AreaFields(SQLModel):
    """Fields an area's desk may change; None leaves the chain's setting in force."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    city: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=64)
    morning_start: dt.time | None = None
    morning_end: dt.time | None = None
    afternoon_start: dt.time | None = None
    afternoon_end: dt.time | None = None
    booking_lead_days: int | None = Field(default=None, ge=0, le=60)
    planning_time: dt.time | None = None
    publish_cutoff: dt.time | None = None
    cash_cap_cny: int | None = Field(default=None, gt=0, le=10_000_000)
    install_types: dict[str, InstallType] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    deposits_enabled: bool | None = None
    matrix_provider: MatrixProviderName | None = None
    osm_extract: ExtractName | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("must be an IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator(
        "morning_start",
        "morning_end",
        "afternoon_start",
        "afternoon_end",
        "planning_time",
        "publish_cutoff",
    )
    @classmethod
    def _local_time(cls, value: dt.time | None) -> dt.time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("give a local time of day (HH:MM) without a UTC offset")
        return value


class AreaUpdate(_AreaFields):
    pass


class AreaCreate(_AreaFields):
    code: AreaCode
    name: str = Field(min_length=1, max_length=100)
    city: str = Field(default="", max_length=100)


class Area(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    city: str = Field(default="", max_length=100)
    timezone: str = Field(max_length=64)
    morning_start: dt.time | None = None
    morning_end: dt.time | None = None
    afternoon_start: dt.time | None = None
    afternoon_end: dt.time | None = None
    booking_lead_days: int | None = None
    planning_time: dt.time | None = None
    publish_cutoff: dt.time | None = None
    cash_cap_cny: int | None = None
    install_types: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    deposits_enabled: bool | None = None
    matrix_provider: str | None = Field(default=None, max_length=16)
    osm_extract: str | None = Field(default=None, max_length=100)
    created_at: dt.datetime = Field(default_factory=utcnow)


class AreaPublic(SQLModel):
    """An area with the settings in force there: its own where set, else the chain's."""

    code: str
    name: str
    city: str
    timezone: str
    overrides: list[str] = Field(default_factory=list, description="settings it overrides")
    morning_start: dt.time
    morning_end: dt.time
    afternoon_start: dt.time
    afternoon_end: dt.time
    booking_lead_days: int
    planning_time: dt.time
    publish_cutoff: dt.time
    cash_cap_cny: int
    install_types: dict[str, InstallType]
    deposits_enabled: bool
    matrix_provider: str
    osm_extract: str | None = Field(
        default=None, description="the area's own city extract; None: the chain's osm_file"
    )
    depots: list[str] = Field(default_factory=list)


class ScheduledRun(SQLModel, table=True):
    """The 15:00 job of one area and date. The primary key lets the database, not a process,
    decide which of several service processes creates it: the second insert fails."""

    __tablename__ = "scheduled_run"
    area_code: str = Field(primary_key=True, foreign_key="area.code", max_length=32)
    date: dt.date = Field(primary_key=True)
    job_id: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)

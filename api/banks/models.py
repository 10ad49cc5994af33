"""Bank branches where an area's crews deposit cash mid-route (delivery rules, art. 7).

An area's own active branches are where its crews deposit; an area with none uses the
chain's default (`bank_branches` in the settings).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import StringConstraints, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from api.core.requests import FINITE

BankCode = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
]
SERVICE_MINUTES_MAX = 120  # a deposit longer than two hours is a typing error


class _BankHours(SQLModel):
    @field_validator("opens", "closes", check_fields=False)
    @classmethod
    def _local_time(cls, value: dt.time | None) -> dt.time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("give a local time of day (HH:MM) without a UTC offset")
        return value

    @field_validator("closes", check_fields=False)
    @classmethod
    def _after_opening(cls, value: dt.time | None, info: ValidationInfo) -> dt.time | None:
        # A field check, not a model one, so the 422 names `closes`.
        opens = info.data.get("opens")
        if value is not None and opens is not None and value <= opens:
            raise ValueError(f"closes must be after opens ({opens:%H:%M})")
        return value


class BankBranchBase(_BankHours):
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(default="", max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    service_minutes: int = Field(default=15, ge=1, le=SERVICE_MINUTES_MAX)
    active: bool = True  # an inactive branch is kept for the plans that name it


class BankBranchCreate(BankBranchBase):
    model_config = FINITE
    code: BankCode
    area_code: str | None = Field(
        default=None, max_length=32, description="its planning area; default: the only one"
    )


class BankBranchUpdate(_BankHours):
    model_config = FINITE
    name: str | None = Field(default=None, min_length=1, max_length=100)
    address: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    opens: dt.time | None = None
    closes: dt.time | None = None
    service_minutes: int | None = Field(default=None, ge=1, le=SERVICE_MINUTES_MAX)
    active: bool | None = None


class BankBranch(BankBranchBase, table=True):
    __tablename__ = "bank_branch"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)


class BankBranchPublic(BankBranchBase):
    id: int
    code: str
    area_code: str

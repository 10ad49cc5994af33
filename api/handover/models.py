"""Requests and answers of the handover records: loading, stop events, sign-offs, reports.

The records themselves are ledger entries (api.records); these models are what the crew's
phone and the warehouse send, validated before anything is stored.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, StringConstraints, model_validator
from sqlmodel import Field, SQLModel

from api.core.requests import FINITE

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# base64; its size, and how many photos a record may carry, are limits of the settings
Image = Annotated[str, StringConstraints(min_length=8)]


class FailReason(StrEnum):
    CUSTOMER_ABSENT = "customer_absent"  # absent or unreachable
    REFUSED = "refused"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"
    ADDRESS_PROBLEM = "address_problem"


class FailOutcome(StrEnum):
    BACK_TO_WAREHOUSE = "back_to_warehouse"
    LEFT_IN_STORAGE = "left_in_storage"  # at a named place
    RESCHEDULED = "rescheduled"  # with the customer, for a date


class Place(SQLModel):
    """Device time and GPS of a record; the server adds its own time on storing."""

    model_config = FINITE
    at: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    def where_and_when(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "lat": self.lat, "lon": self.lon}


class ItemCount(SQLModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=0, le=100_000)


class LoadCount(ItemCount):
    order: str = Field(min_length=1, max_length=64, description="the order's external id")


class LoadingCountCreate(SQLModel):
    keeper_name: Name
    at: AwareDatetime
    counts: list[LoadCount] = Field(max_length=5_000)


class LoadingSignCreate(SQLModel):
    crew_leader_name: Name
    at: AwareDatetime


class LoadingReconcileCreate(SQLModel):
    agreed_by: list[Name] = Field(min_length=2, max_length=4)
    note: str = Field(min_length=1, max_length=500)
    at: AwareDatetime


class DeliveryCreate(Place):
    counts: list[ItemCount] = Field(min_length=1, max_length=500)


class FailureCreate(Place):
    reason: FailReason
    outcome: FailOutcome
    storage_place: str | None = Field(default=None, max_length=200)
    reschedule_date: dt.date | None = None
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _outcome_details(self) -> FailureCreate:
        if self.outcome is FailOutcome.LEFT_IN_STORAGE and not self.storage_place:
            raise ValueError("storage_place: name the place when goods are left in storage")
        if self.outcome is FailOutcome.RESCHEDULED and self.reschedule_date is None:
            raise ValueError("reschedule_date: give the date agreed with the customer")
        return self


class SignOffCreate(Place):
    signer_name: Name
    signature_png: Image
    counts: list[ItemCount] = Field(min_length=1, max_length=500)
    amount_cny: float = Field(ge=0, le=10_000_000)
    photos: list[Image] = Field(default_factory=list)


class PartUsed(SQLModel):
    name: Name
    sku: str = Field(default="", max_length=64)
    quantity: int = Field(ge=1, le=1000)


class ServiceReportCreate(Place):
    work_done: str = Field(min_length=1, max_length=2000)
    parts_used: list[PartUsed] = Field(default_factory=list, max_length=100)
    satisfaction: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)
    signer_name: Name
    signature_png: Image
    photos: list[Image] = Field(default_factory=list)


class PhotoCreate(Place):
    image: Image
    caption: str = Field(default="", max_length=300)


class CorrectionCreate(SQLModel):
    reason: str = Field(min_length=1, max_length=500)
    changes: dict[str, Any] = Field(description="fields of the corrected record, new values")


class LoadingLine(SQLModel):
    order: str
    sku: str
    name: str
    expected: int
    counted: int | None


class LoadingStatus(SQLModel):
    date: dt.date
    vehicle_code: str
    lines: list[LoadingLine]
    counted: bool
    differences: list[LoadingLine]
    reconciled: bool
    signed: bool
    may_depart: bool
    blocked_because: str = ""


class StopStatus(SQLModel):
    date: dt.date
    order: str
    vehicle_code: str
    state: str  # planned, arrived, delivered, partial, failed
    signed_off: bool
    records: list[int]  # ledger entry ids, in order

"""Goods taken back for repair: the register row of each receipt, and the requests of its steps.

The steps themselves are ledger entries (api.records.kinds.REGISTER); the row is where the
goods are now, so the register reads in one query and a step out of order is refused.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, StringConstraints
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.core.requests import FINITE

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class GoodsStatus(StrEnum):
    """Where the goods are, in the register's order."""

    IN = "in"  # taken back, waiting for or under repair
    REPAIRED = "repaired"
    INSPECTED = "inspected"
    RETURN_BOOKED = "return_booked"
    OUT = "out"  # back with the customer; the receipt is closed


class TakeBackBase(SQLModel):
    """What the technician writes on the receipt (客户商品领取收据)."""

    model_config = FINITE
    product: str = Field(min_length=1, max_length=200)
    serial: str = Field(default="", max_length=100, description="serial number or description")
    condition: str = Field(default="", max_length=500, description="scratches, dents, missing")
    accessories: str = Field(default="", max_length=500, description="what goes with it")
    fault: str = Field(min_length=1, max_length=1000)
    # The warranty card as read on site, for a ticket without one (no product type or
    # purchase date); a ticket's own card decides (api.repairs.charge).
    under_warranty: bool = False


class TakeBackCreate(TakeBackBase):
    ticket_id: int = Field(ge=1, le=2**31 - 1)
    # The service report of this visit, on which the customer signed for the take-back.
    service_report_id: int = Field(ge=1, le=2**31 - 1)
    at: AwareDatetime


class TakeBack(TakeBackBase, table=True):
    __tablename__ = "take_back"
    __table_args__ = (UniqueConstraint("area_code", "year", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    receipt_no: str = Field(unique=True, max_length=64)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    year: int
    seq: int  # 1, 2, ... per area and year: the receipt's number
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    customer_name: str = Field(default="", max_length=100)
    customer_phone: str = Field(default="", max_length=32)
    status: GoodsStatus = Field(default=GoodsStatus.IN, index=True)
    vehicle_code: str = Field(max_length=32)  # the technician who took it
    taken_on: dt.date  # the area's date: the register's age counts from it
    taken_at: dt.datetime
    # The repair card (修护卡): who repaired, when, the hours and the parts.
    repaired_by: str = Field(default="", max_length=100)
    repaired_key_id: int | None = None
    repaired_at: dt.datetime | None = None
    labour_hours: float | None = None
    parts: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    work_done: str = Field(default="", max_length=1000)
    inspected_by: str = Field(default="", max_length=100)
    inspected_at: dt.datetime | None = None
    return_order_id: int | None = Field(default=None, foreign_key="order.id")
    returned_at: dt.datetime | None = None
    returned_on: dt.date | None = None  # the area's date of the return
    charge_fen: int | None = None  # stated on the return; 0 under warranty
    # The ledger entries of the steps so far, by kind; each the proof of its step.
    entries: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PartLine(SQLModel):
    code: str = Field(min_length=1, max_length=64, description="a code of the parts list")
    name: str = Field(default="", max_length=100)
    quantity: int = Field(ge=1, le=1000)


class RepairCardCreate(SQLModel):
    model_config = FINITE
    labour_hours: float = Field(gt=0, le=200)
    parts: list[PartLine] = Field(default_factory=list, max_length=50)
    work_done: str = Field(min_length=1, max_length=1000)
    at: AwareDatetime


class InspectionCreate(SQLModel):
    passed: bool = Field(description="only a passed inspection lets the goods go back")
    note: Text = ""
    at: AwareDatetime


class ReturnVisitCreate(SQLModel):
    on_site_at: AwareDatetime = Field(description="the time the customer chose")


class ReturnCreate(SQLModel):
    model_config = FINITE
    # The service report signed at the return visit: the customer's signature for the goods.
    service_report_id: int = Field(ge=1, le=2**31 - 1)
    receipt_returned: bool = Field(description="the customer handed the receipt back")
    at: AwareDatetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TakeBackPublic(TakeBackBase):
    id: int
    receipt_no: str
    area_code: str
    ticket_id: int
    customer_name: str
    customer_phone: str
    status: GoodsStatus
    vehicle_code: str
    taken_on: dt.date
    taken_at: dt.datetime
    repaired_by: str
    repaired_at: dt.datetime | None
    labour_hours: float | None
    parts: list[dict[str, object]]
    work_done: str
    inspected_by: str
    inspected_at: dt.datetime | None
    return_order_id: int | None
    returned_at: dt.datetime | None
    returned_on: dt.date | None
    charge_fen: int | None
    entries: dict[str, int]
    receipt_closed: bool = False


class RegisterRow(SQLModel):
    """One line of the register as GET /repairs/register lists it."""

    id: int
    receipt_no: str
    area_code: str
    customer_name: str
    product: str
    status: GoodsStatus
    taken_on: dt.date
    age_days: int  # days since taken in, on the area's clock
    overdue: bool  # held longer than goods_overdue_days
    returned_at: dt.datetime | None

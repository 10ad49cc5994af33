"""Orders from the order system: what to bring or do, where, when, and what to collect."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from api.auth.models import utcnow
from api.core.requests import FINITE
from optimizer.data import VisitKind


class Slot(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


class OrderStatus(StrEnum):
    BOOKED = "booked"
    PLANNED = "planned"  # on a published plan
    DELIVERED = "delivered"
    FAILED = "failed"  # comes back to planning
    CANCELLED = "cancelled"


class OrderItemBase(SQLModel):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)
    weight_kg: float = Field(ge=0, description="per unit")
    volume_m3: float = Field(ge=0, description="per unit")
    install_type: str | None = Field(
        default=None,
        max_length=32,
        description="product type a technician installs after delivery (a key of the "
        "settings' install_types); none: no installation",
    )


class OrderItemCreate(OrderItemBase):
    model_config = FINITE


class OrderItem(OrderItemBase, table=True):
    __tablename__ = "order_item"
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    delivered: int = Field(default=0, ge=0)  # handed over on earlier visits


class OrderItemPublic(OrderItemBase):
    pass


class OrderBase(SQLModel):
    external_id: str = Field(min_length=1, max_length=64, description="the order system's id")
    customer: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)
    address: str = Field(min_length=1, max_length=300)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    service_type: VisitKind = VisitKind.DELIVERY
    date: dt.date
    slot: Slot
    cash_cny: float = Field(default=0, ge=0)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    priority: int = Field(default=1, ge=0, le=10)
    min_crew: int = Field(default=1, ge=1, le=6)
    service_minutes: int = Field(default=20, ge=0, description="at most the settings' bound")
    notes: str = Field(default="", max_length=500)


class OrderCreate(OrderBase):
    model_config = FINITE
    items: list[OrderItemCreate] = Field(default_factory=list)
    area: str | None = Field(
        default=None,
        max_length=32,
        description="planning area; default: the area whose depot serves the address at the "
        "least travel",
    )

    @model_validator(mode="after")
    def _coordinates_together(self) -> OrderCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        return self


class Order(OrderBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, index=True, max_length=64)
    date: dt.date = Field(index=True)
    lat: float
    lon: float
    status: OrderStatus = Field(default=OrderStatus.BOOKED, index=True)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    weight_kg: float = 0.0  # totals of the items, kept for planning and slot queries
    volume_m3: float = 0.0
    payload_hash: str = Field(max_length=64, description="to tell a retry from a clash")
    # An installation follows its delivery and may be made on any day from `date` to
    # `latest_date`: the planner chooses which. None: only on `date`.
    follows_order_id: int | None = Field(default=None, foreign_key="order.id", index=True)
    latest_date: dt.date | None = Field(default=None, index=True)
    # A time agreed with the customer (a repair ticket's on-site time), narrower than the slot.
    window_from: dt.time | None = None
    window_to: dt.time | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class OrderPublic(OrderBase):
    id: int
    area_code: str
    lat: float
    lon: float
    status: OrderStatus
    weight_kg: float
    volume_m3: float
    follows_order_id: int | None = None
    latest_date: dt.date | None = None
    window_from: dt.time | None = None
    window_to: dt.time | None = None
    items: list[OrderItemPublic] = Field(default_factory=list)
    created_at: dt.datetime


class RescheduleRequest(SQLModel):
    date: dt.date
    slot: Slot
    reason: str = Field(default="", max_length=300)


class CancelRequest(SQLModel):
    reason: str = Field(min_length=1, max_length=300)


class OrderEvent(SQLModel, table=True):
    """History of an order: created, rescheduled, cancelled, planned, delivered, failed."""

    __tablename__ = "order_event"
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    kind: str = Field(max_length=32)
    at: dt.datetime = Field(default_factory=utcnow)
    by: str = Field(default="", max_length=100)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OrderEventPublic(SQLModel):
    kind: str
    at: dt.datetime
    by: str
    detail: dict

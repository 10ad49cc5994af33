"""The slot question (where, how big, what service) and the answer per date and slot."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from api.core.requests import FINITE
from api.orders.models import Slot
from optimizer.data import VisitKind


class SlotQuery(SQLModel):
    """What the order system knows about an order before it is booked."""

    model_config = FINITE

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    weight_kg: float = Field(default=0, ge=0, description="the order's total weight")
    volume_m3: float = Field(default=0, ge=0, description="the order's total volume")
    cash_cny: float = Field(default=0, ge=0, description="cash to collect on the visit")
    service_type: VisitKind = VisitKind.DELIVERY
    skills: str = Field(default="", max_length=500, description="comma-separated skill names")
    service_minutes: int = Field(default=20, ge=0, description="at most the settings' bound")
    days: int = Field(default=14, ge=1, le=60, description="how many dates to answer for")

    def skill_names(self) -> list[str]:
        return [name.strip() for name in self.skills.split(",") if name.strip()]


class Remaining(SQLModel):
    """What is left in the slot before this order: crew minutes, load and cash."""

    minutes: int
    weight_kg: float
    volume_m3: float
    cash_cny: float


class SlotOffer(SQLModel):
    date: dt.date
    slot: Slot
    available: bool
    reason: str | None = None  # why not, when not available
    remaining: Remaining

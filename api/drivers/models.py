"""What a driver sees of the day: their stops in order, what to hand over and collect."""

from __future__ import annotations

import datetime as dt

from sqlmodel import SQLModel

from api.fleet.models import CrewMemberPublic
from api.orders.models import OrderItemPublic, Slot
from api.plans.models import DepositStopPublic
from optimizer.data import VisitKind


class DriverStopPublic(SQLModel):
    position: int
    external_id: str
    service_type: VisitKind
    customer: str
    phone: str
    address: str
    lat: float
    lon: float
    slot: Slot
    window: str  # "08:00–12:00": the slot, or the time agreed for a repair
    arrival: str
    start: str
    items: list[OrderItemPublic]
    cash_to_collect_cny: float
    cash_on_board_cny: float  # after collecting here, if everything before went to plan
    status: str


class DriverDepositPublic(DepositStopPublic):
    """A planned stop at a bank, where two of the crew hand over all the cash on board; its
    `id` is what the deposit record names."""

    lat: float
    lon: float


class DriverRoutePublic(SQLModel):
    plan_id: int
    plan_version: int
    date: dt.date
    vehicle_code: str
    crew: list[CrewMemberPublic]
    departure: str
    return_time: str
    distance_km: float
    cash_cap_cny: float
    stops: list[DriverStopPublic]
    deposits: list[DriverDepositPublic] = []

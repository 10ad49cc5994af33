"""送货日报表: the day's deliveries, punctuality, distance and cash, per crew and in total."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel


class CrewDayPublic(SQLModel):
    vehicle_code: str  # "total" on the total row
    vehicle_name: str = ""
    crew: list[str] = Field(default_factory=list)
    planned_stops: int = 0
    delivered: int = 0  # every item handed over
    partial: int = 0  # delivered, some items short
    failed: int = 0
    failed_reasons: dict[str, int] = Field(default_factory=dict)  # reason -> stops
    not_reported: int = 0  # no delivery or failure recorded yet
    # By the crew's first recorded arrival against the visit's window (its slot, or the time
    # agreed for a repair), in the store's time zone; "early" is before the window opens.
    # Stops without an arrival are in none of them.
    on_time: int = 0
    early: int = 0
    late: int = 0
    planned_km: float = 0.0
    cash_expected_cny: float = 0.0  # cash_cny of the orders delivered, partial ones in full
    collected_cash_cny: float = 0.0
    collected_transfer_cny: float = 0.0
    deposited_cny: float = 0.0
    handed_over_cny: float = 0.0
    on_board_cny: float = 0.0


class DailyReportPublic(SQLModel):
    date: dt.date
    plan_id: int
    plan_version: int
    timezone: str
    crews: list[CrewDayPublic]
    total: CrewDayPublic

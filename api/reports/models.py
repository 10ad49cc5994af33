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


class AreaDayPublic(SQLModel):
    """One area's part of a report: its published plan, its crews and their total."""

    area_code: str
    plan_id: int
    plan_version: int
    timezone: str
    crews: list[str]  # vehicle codes of its rows in the report's crews
    total: CrewDayPublic


class DailyReportPublic(SQLModel):
    date: dt.date
    # The one area reported on; null for a chain-wide report over several.
    area_code: str | None = None
    # The area's published plan; null when the report sums several areas' plans.
    plan_id: int | None
    plan_version: int | None
    timezone: str
    crews: list[CrewDayPublic]
    # The sum of the crews, and so of the areas in by_area.
    total: CrewDayPublic
    # Each area with a published plan that day, its total among them; the totals add up.
    by_area: list[AreaDayPublic] = Field(default_factory=list)

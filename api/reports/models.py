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
    # Service fees collected at ticket visits (their cash is in on_board), and the visits
    # reported: paid (fee collected) or free (under warranty, or waived by a manager).
    fee_cash_cny: float = 0.0
    fee_transfer_cny: float = 0.0
    paid_visits: int = 0
    free_visits: int = 0


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


class JobPartPublic(SQLModel):
    code: str  # the price list's code (the service report's sku)
    name: str
    quantity: int


class TechnicianJobPublic(SQLModel):
    """One visit of a technician's day (技术员工作日报表, 服务作业程序 article 10)."""

    ticket: str  # the ticket's external id
    ticket_id: int
    order: str  # the visit's order
    service_type: str | None
    arrived_at: dt.datetime | None
    reported_at: dt.datetime | None  # the customer signed the service report
    minutes_on_site: int | None  # arrival to signed report
    parts: list[JobPartPublic]
    # paid, warranty, waived, deferred (charged on return), open, uncollected, unknown
    charge: str
    fee_cny: float  # charged: the quote less any approved discount
    discount_cny: float
    approved_by: str | None
    collected_cny: float
    method: str | None  # cash or transfer


class TechnicianTotals(SQLModel):
    jobs: int = 0
    paid: int = 0
    free: int = 0  # under warranty or waived
    minutes_on_site: int = 0
    fee_cny: float = 0.0
    collected_cash_cny: float = 0.0
    collected_transfer_cny: float = 0.0


class TechnicianDayPublic(TechnicianTotals):
    area_code: str
    vehicle_code: str
    technicians: list[str]  # the crew of the day
    job_list: list[TechnicianJobPublic]


class AreaTechniciansPublic(SQLModel):
    area_code: str
    total: TechnicianTotals


class TechnicianReportPublic(SQLModel):
    date: dt.date
    area_code: str | None = None  # null for a chain-wide report over several areas
    technicians: list[TechnicianDayPublic]
    total: TechnicianTotals  # the technicians summed, and so the areas in by_area
    by_area: list[AreaTechniciansPublic] = Field(default_factory=list)

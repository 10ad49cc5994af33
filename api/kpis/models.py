"""Delivery KPIs over a date range, per crew and in total: every rate with its basis."""

from __future__ import annotations

import datetime as dt

from sqlmodel import SQLModel


class RatePublic(SQLModel):
    """A share with the counts behind it; null when there is nothing to divide by."""

    numerator: int = 0
    denominator: int = 0
    rate: float | None = None


class AveragePublic(SQLModel):
    """A mean with its basis: how many reports, and the points they add up to."""

    count: int = 0
    total: int = 0
    average: float | None = None


class CrewKpiPublic(SQLModel):
    vehicle_code: str  # "total" on the total row
    # On time: the first recorded arrival inside the order's slot, over stops with an arrival.
    on_time_morning: RatePublic
    on_time_afternoon: RatePublic
    # Delivered complete over stops with an outcome (delivered, partial or failed).
    delivery_success: RatePublic
    # Satisfaction (1–5) given on the signed service reports.
    satisfaction: AveragePublic
    # Install visits done (delivered or signed) on their planned date, over install visits.
    installs_on_planned_date: RatePublic


class KpiReportPublic(SQLModel):
    from_date: dt.date
    to_date: dt.date
    timezone: str
    # The dates in the range with a published plan; the others count for nothing.
    published_days: list[dt.date]
    # Why installs are measured on their planned date: see api.kpis.service.
    install_basis: str
    crews: list[CrewKpiPublic]
    total: CrewKpiPublic

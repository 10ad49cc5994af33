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
    # On time: the first recorded arrival inside the visit's window (its slot, or the time agreed
    # for a repair), over stops with an arrival.
    on_time_morning: RatePublic
    on_time_afternoon: RatePublic
    # Delivered complete over stops with an outcome (delivered, partial or failed).
    delivery_success: RatePublic
    # Satisfaction (1–5) given on the signed service reports.
    satisfaction: AveragePublic
    # Install visits done (delivered or signed) within their window, over install visits.
    installs_within_window: RatePublic


class TechnicianKpiPublic(SQLModel):
    vehicle_code: str
    name: str
    # Install and repair visits on time, over those with a recorded arrival (as for crews).
    visits_on_time: RatePublic
    # Of the tickets opened in the range and assigned to this technician: the customer called
    # within ticket_contact_minutes, over those whose clock has stopped or run out.
    contacted_in_time: RatePublic
    tickets_closed: int
    # Closed after exactly one visit, over those closed.
    first_visit_fix: RatePublic
    # Satisfaction (1–5) on the service reports this technician had signed in the range.
    satisfaction: AveragePublic


class TicketKpiPublic(SQLModel):
    """Response times of the tickets opened in the range, as of the report's as_of."""

    opened: int = 0
    answered: int = 0
    # Hours from opening to answer over the answered tickets; p90 by linear interpolation.
    hours_to_answer_median: float | None = None
    hours_to_answer_p90: float | None = None
    # Answered within ticket_answer_hours, over the tickets whose clock stopped or ran out.
    answered_in_time: RatePublic = RatePublic()
    # Customer called within ticket_contact_minutes of assignment, likewise.
    contacted_in_time: RatePublic = RatePublic()
    closed: int = 0
    first_visit_fix: RatePublic = RatePublic()
    # Satisfaction (1–5) recorded on closing.
    satisfaction: AveragePublic = AveragePublic()


class KpiReportPublic(SQLModel):
    from_date: dt.date
    to_date: dt.date
    timezone: str
    # The ticket clocks still running are judged as of this moment.
    as_of: dt.datetime
    ticket_answer_hours: float
    ticket_contact_minutes: float
    # The dates in the range with a published plan; the others count for nothing.
    published_days: list[dt.date]
    # How installs are judged: see api.kpis.service.
    install_basis: str
    crews: list[CrewKpiPublic]
    total: CrewKpiPublic
    technicians: list[TechnicianKpiPublic]
    tickets: TicketKpiPublic
    # The one area reported on; null for a chain-wide report over several.
    area_code: str | None = None
    by_area: list[AreaKpiPublic] = []


class AreaKpiPublic(SQLModel):
    """One area's part of a KPI report: its published days, its total and its tickets. Each
    rate's counts over the areas add up to the report's."""

    area_code: str
    timezone: str
    published_days: list[dt.date]
    crews: list[str]  # vehicle codes of its rows in the report's crews
    total: CrewKpiPublic
    tickets: TicketKpiPublic

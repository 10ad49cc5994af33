"""Delivery KPIs over a date range, summed day by day from the daily report's own judgement.

Each published day's stops come from api.reports.service.stop_facts, the function the
送货日报表 counts with, so a KPI and the daily reports of its days never disagree.

Installs: the share of installation visits done by the last day of their window, which is
install_within_days after the delivery they follow (api.orders.installs), or the date
agreed with the customer when the visit was moved. An installation booked directly by the
order system has no window: it counts when done on its date. Counted in _Tally.stop.

Technicians get rows of their own besides their crew rows: their install and repair visits
on time, and the figures of the tickets assigned to them (api.kpis.tickets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from sqlmodel import Session, col, select

from api.areas.scope import local_settings
from api.core.config import ServiceSettings
from api.core.errors import RuleBroken
from api.fleet.models import Depot, Vehicle
from api.kpis import tickets
from api.kpis.models import (
    AreaKpiPublic,
    CrewKpiPublic,
    KpiReportPublic,
    TechnicianKpiPublic,
)
from api.kpis.tickets import TicketTally, average, rate
from api.plans.models import Plan, PlanStatus
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries
from api.reports.service import StopFact, stop_facts
from optimizer.data import VehicleKind, VisitKind

MAX_DAYS = 366
# The service keeps no records outside these years. The bounds also keep each day's local
# midnight within what a datetime holds: 0001-01-01 00:00 in Asia/Shanghai is in year 0 in
# UTC, which made the ticket query fail (a 500, found by the API fuzz test).
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2999, 12, 31)
INSTALL_BASIS = (
    "installation visits done by the last day of their window: install_within_days after "
    "the delivery, or the date agreed with the customer; without a window, on their date"
)
WITH_OUTCOME = ("delivered", "partial", "failed")
SIGNED = (Kind.SIGNED_OFF, Kind.SERVICE_REPORT)
SERVICE_VISITS = (VisitKind.INSTALL, VisitKind.REPAIR)


@dataclass(slots=True)
class _Tally:
    """One crew's counts over the range; every rate is built from these."""

    morning_on_time: int = 0
    morning_arrived: int = 0
    afternoon_on_time: int = 0
    afternoon_arrived: int = 0
    delivered: int = 0
    with_outcome: int = 0
    reports: int = 0
    satisfaction_points: int = 0
    installs_done: int = 0
    installs: int = 0
    services_on_time: int = 0  # install and repair visits: a technician's own figure
    services_arrived: int = 0

    def add(self, other: _Tally) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def stop(self, fact: StopFact, signed: set[int], date: dt.date) -> None:
        if fact.arrival is not None:
            slot = str(fact.order.slot)
            on_time = fact.arrival == "on_time"
            setattr(self, f"{slot}_arrived", getattr(self, f"{slot}_arrived") + 1)
            setattr(self, f"{slot}_on_time", getattr(self, f"{slot}_on_time") + on_time)
            if fact.order.service_type in SERVICE_VISITS:
                self.services_arrived += 1
                self.services_on_time += on_time
        if fact.outcome in WITH_OUTCOME:
            self.with_outcome += 1
            self.delivered += fact.outcome == "delivered"
        # The install tally (installs_within_window); see the module's docstring.
        if fact.order.service_type == VisitKind.INSTALL:
            self.installs += 1
            done = fact.outcome in ("delivered", "partial") or fact.order.id in signed
            last = fact.order.latest_date
            self.installs_done += done and (last is None or date <= last)


def check_range(*, start: dt.date, end: dt.date) -> None:
    if start < EARLIEST:
        raise RuleBroken(f"from ({start}) is before {EARLIEST}", field="from", rule="range_bounds")
    if end > LATEST:
        raise RuleBroken(f"to ({end}) is after {LATEST}", field="to", rule="range_bounds")
    if start > end:
        raise RuleBroken(f"from ({start}) is after to ({end})", field="from", rule="range")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise RuleBroken(
            f"the range has {days} days; at most {MAX_DAYS}", field="to", rule="range_length"
        )


@dataclass(slots=True)
class _Area:
    """One area's tallies over the range."""

    code: str
    timezone: str
    days: list[dt.date]
    crews: dict[str, _Tally]
    tickets: TicketTally
    by_vehicle: dict[str, TicketTally]

    def total(self) -> _Tally:
        return _sum(self.crews.values())


def kpis(
    *,
    session: Session,
    settings: ServiceSettings,
    areas: Sequence[str],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
) -> KpiReportPublic:
    """Per crew, per technician and in total, over the areas' published plans of the dates
    from start to end; ticket response times over the tickets opened in those dates. Over
    several areas the figures are summed, each area's own in by_area."""
    check_range(start=start, end=end)
    parts = [_area(session, settings, area, start, end, now) for area in areas]
    crews: dict[str, _Tally] = {}
    all_tickets, by_vehicle = TicketTally(), {}
    for part in parts:
        for code, tally in part.crews.items():
            crews.setdefault(code, _Tally()).add(tally)
        all_tickets.merge(part.tickets)
        by_vehicle.update(part.by_vehicle)
    return KpiReportPublic(
        from_date=start,
        to_date=end,
        timezone=parts[0].timezone if len(parts) == 1 else settings.timezone,
        as_of=now,
        ticket_answer_hours=settings.ticket_answer_hours,
        ticket_contact_minutes=settings.ticket_contact_minutes,
        published_days=sorted({day for part in parts for day in part.days}),
        install_basis=INSTALL_BASIS,
        crews=[_public(code, crews[code]) for code in sorted(crews)],
        total=_public("total", _sum(crews.values())),
        technicians=_technicians(session, areas, crews, by_vehicle),
        tickets=tickets.public(all_tickets),
        area_code=areas[0] if len(areas) == 1 else None,
        by_area=[_area_public(part) for part in parts],
    )


def _area(
    session: Session,
    settings: ServiceSettings,
    area: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
) -> _Area:
    """An area's days by its own settings and time zone."""
    local = local_settings(session=session, settings=settings, area=area)
    published = select(col(Plan.date)).where(
        Plan.area_code == area,
        Plan.status == PlanStatus.PUBLISHED,
        Plan.date >= start,
        Plan.date <= end,
    )
    days = list(session.exec(published.distinct().order_by(col(Plan.date))).all())
    crews: dict[str, _Tally] = {}
    for date in days:
        _count_day(session=session, settings=local, area=area, date=date, crews=crews)
    area_tickets, by_vehicle = tickets.tallies(
        session=session, settings=local, area=area, start=start, end=end, now=now
    )
    return _Area(area, local.timezone, days, crews, area_tickets, by_vehicle)


def _area_public(part: _Area) -> AreaKpiPublic:
    return AreaKpiPublic(
        area_code=part.code,
        timezone=part.timezone,
        published_days=part.days,
        crews=sorted(part.crews),
        total=_public("total", part.total()),
        tickets=tickets.public(part.tickets),
    )


def _sum(tallies: Iterable[_Tally]) -> _Tally:
    total = _Tally()
    for tally in tallies:
        total.add(tally)
    return total


def _technicians(
    session: Session,
    areas: Sequence[str],
    crews: dict[str, _Tally],
    by_vehicle: dict[str, TicketTally],
) -> list[TechnicianKpiPublic]:
    """Every active technician of the areas, and any other with visits or tickets in them."""
    query = (
        select(Vehicle)
        .join(Depot, col(Vehicle.depot_code) == col(Depot.code))
        .where(Vehicle.kind == VehicleKind.TECHNICIAN, col(Depot.area_code).in_(areas))
        .order_by(Vehicle.code)
    )
    rows = []
    for vehicle in session.exec(query):
        visits, tally = crews.get(vehicle.code, _Tally()), by_vehicle.get(vehicle.code)
        if not vehicle.active and vehicle.code not in crews and tally is None:
            continue
        tally = tally or TicketTally()
        rows.append(
            TechnicianKpiPublic(
                vehicle_code=vehicle.code,
                name=vehicle.name,
                visits_on_time=rate(visits.services_on_time, visits.services_arrived),
                contacted_in_time=rate(tally.contact_met, tally.contact_decided),
                tickets_closed=tally.closed,
                first_visit_fix=rate(tally.fixed_first, tally.closed),
                satisfaction=average(visits.reports, visits.satisfaction_points),
            )
        )
    return rows


def _count_day(
    *,
    session: Session,
    settings: ServiceSettings,
    area: str,
    date: dt.date,
    crews: dict[str, _Tally],
) -> None:
    rows = list(effective(entries(session, area=area, date=date, kinds=SIGNED)))
    signed = {row.order_id for row in rows if row.order_id is not None}
    for fact in stop_facts(session=session, settings=settings, area=area, date=date):
        crews.setdefault(fact.vehicle_code, _Tally()).stop(fact, signed, date)
    for row, points in _satisfaction(rows):
        tally = crews.setdefault(row.vehicle_code or "", _Tally())
        tally.reports += 1
        tally.satisfaction_points += points


def _satisfaction(rows: Iterable[LedgerEntry]) -> Iterable[tuple[LedgerEntry, int]]:
    """Service reports with a valid score; the report form enforces 1–5, old rows may not."""
    for row in rows:
        points = row.payload.get("satisfaction") if row.kind == Kind.SERVICE_REPORT else None
        if isinstance(points, int) and 1 <= points <= 5:
            yield row, points


def _public(code: str, tally: _Tally) -> CrewKpiPublic:
    return CrewKpiPublic(
        vehicle_code=code,
        on_time_morning=rate(tally.morning_on_time, tally.morning_arrived),
        on_time_afternoon=rate(tally.afternoon_on_time, tally.afternoon_arrived),
        delivery_success=rate(tally.delivered, tally.with_outcome),
        satisfaction=average(tally.reports, tally.satisfaction_points),
        installs_within_window=rate(tally.installs_done, tally.installs),
    )

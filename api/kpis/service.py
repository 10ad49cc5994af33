"""Delivery KPIs over a date range, summed day by day from the daily report's own judgement.

Each published day's stops come from api.reports.service.stop_facts, the function the
送货日报表 counts with, so a KPI and the daily reports of its days never disagree.

Installs: an install order carries no link to the delivery order it follows (orders share
only a free-text customer name), so "installed within install_within_days of delivery"
cannot be measured. The KPI is the share of install visits done on their planned date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields

from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.core.errors import RuleBroken
from api.kpis.models import AveragePublic, CrewKpiPublic, KpiReportPublic, RatePublic
from api.plans.models import Plan, PlanStatus
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries
from api.reports.service import BOM, StopFact, stop_facts
from optimizer.data import VisitKind

MAX_DAYS = 366
INSTALL_BASIS = (
    "installs done on their planned date: an install order has no link to its delivery "
    "order, so the install_within_days window after delivery cannot be measured"
)
WITH_OUTCOME = ("delivered", "partial", "failed")
SIGNED = (Kind.SIGNED_OFF, Kind.SERVICE_REPORT)


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

    def add(self, other: _Tally) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def stop(self, fact: StopFact, signed: set[int]) -> None:
        if fact.arrival is not None:
            slot = str(fact.order.slot)
            setattr(self, f"{slot}_arrived", getattr(self, f"{slot}_arrived") + 1)
            if fact.arrival == "on_time":
                setattr(self, f"{slot}_on_time", getattr(self, f"{slot}_on_time") + 1)
        if fact.outcome in WITH_OUTCOME:
            self.with_outcome += 1
            self.delivered += fact.outcome == "delivered"
        if fact.order.service_type == VisitKind.INSTALL:
            self.installs += 1
            done = fact.outcome in ("delivered", "partial") or fact.order.id in signed
            self.installs_done += done


def check_range(*, start: dt.date, end: dt.date) -> None:
    if start > end:
        raise RuleBroken(f"from ({start}) is after to ({end})", field="from", rule="range")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise RuleBroken(
            f"the range has {days} days; at most {MAX_DAYS}", field="to", rule="range_length"
        )


def kpis(
    *, session: Session, settings: ServiceSettings, start: dt.date, end: dt.date
) -> KpiReportPublic:
    """Per crew and in total, over the published plans of the dates from start to end."""
    check_range(start=start, end=end)
    published = select(col(Plan.date)).where(
        Plan.status == PlanStatus.PUBLISHED, Plan.date >= start, Plan.date <= end
    )
    days = list(session.exec(published.distinct().order_by(col(Plan.date))).all())
    crews: dict[str, _Tally] = {}
    for date in days:
        _count_day(session=session, settings=settings, date=date, crews=crews)
    total = _Tally()
    for tally in crews.values():
        total.add(tally)
    return KpiReportPublic(
        from_date=start,
        to_date=end,
        timezone=settings.timezone,
        published_days=days,
        install_basis=INSTALL_BASIS,
        crews=[_public(code, crews[code]) for code in sorted(crews)],
        total=_public("total", total),
    )


def _count_day(
    *, session: Session, settings: ServiceSettings, date: dt.date, crews: dict[str, _Tally]
) -> None:
    rows = list(effective(entries(session, date=date, kinds=SIGNED)))
    signed = {row.order_id for row in rows if row.order_id is not None}
    for fact in stop_facts(session=session, settings=settings, date=date):
        crews.setdefault(fact.vehicle_code, _Tally()).stop(fact, signed)
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


def _rate(numerator: int, denominator: int) -> RatePublic:
    rate = round(numerator / denominator, 4) if denominator else None
    return RatePublic(numerator=numerator, denominator=denominator, rate=rate)


def _public(code: str, tally: _Tally) -> CrewKpiPublic:
    average = round(tally.satisfaction_points / tally.reports, 2) if tally.reports else None
    return CrewKpiPublic(
        vehicle_code=code,
        on_time_morning=_rate(tally.morning_on_time, tally.morning_arrived),
        on_time_afternoon=_rate(tally.afternoon_on_time, tally.afternoon_arrived),
        delivery_success=_rate(tally.delivered, tally.with_outcome),
        satisfaction=AveragePublic(
            count=tally.reports, total=tally.satisfaction_points, average=average
        ),
        installs_on_planned_date=_rate(tally.installs_done, tally.installs),
    )


RATES = ("on_time_morning", "on_time_afternoon", "delivery_success", "installs_on_planned_date")
HEAD = (
    "vehicle",
    *(f"{name}_{part}" for name in RATES for part in ("numerator", "denominator", "rate")),
    "satisfaction_count",
    "satisfaction_total",
    "satisfaction_average",
)


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def kpis_csv(report: KpiReportPublic) -> bytes:
    """One row per crew, then the total row; an empty rate cell means no basis to rate."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEAD)
    for crew in [*report.crews, report.total]:
        rates = [getattr(crew, name) for name in RATES]
        writer.writerow(
            (
                crew.vehicle_code,
                *(x for r in rates for x in (r.numerator, r.denominator, _cell(r.rate))),
                crew.satisfaction.count,
                crew.satisfaction.total,
                "" if crew.satisfaction.average is None else f"{crew.satisfaction.average:.2f}",
            )
        )
    return (BOM + buffer.getvalue()).encode("utf-8")

"""送货日报表: the published plan against what the ledger says happened, per crew.

Outcomes, arrivals and money are read from the ledger entries as corrected, the same
entries (and the same cash arithmetic) the reconciliation uses, so the two always agree.
CSV starts with a byte-order mark: Excel otherwise reads UTF-8 as the local code page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from api.areas.scope import local_settings
from api.cash.ledger import OUTCOME_KINDS, CrewCash, day_cash, latest_outcomes
from api.cash.models import cny
from api.core.config import ServiceSettings
from api.core.errors import NotFound
from api.core.spreadsheet import csv_bytes
from api.drivers.service import published_plan
from api.fees.ledger import Charge, visit_fees
from api.fleet.models import Vehicle
from api.fleet.service import crews_on
from api.orders.models import Order
from api.orders.window import visit_window
from api.plans.models import Plan, PlanRoute, PlanStop
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries
from api.reports.models import AreaDayPublic, CrewDayPublic, DailyReportPublic
from optimizer.settings import seconds_of_day


def daily_report(
    *, session: Session, settings: ServiceSettings, areas: Sequence[str], date: dt.date
) -> DailyReportPublic:
    """The day of one area, or the sum of several with each one's own total in by_area.

    Areas without a published plan that day are left out of a chain-wide report; one area
    asked for by itself, or no area with a plan, is a 404.
    """
    days: list[tuple[AreaDayPublic, list[CrewDayPublic]]] = []
    for area in areas:
        try:
            days.append(_area_day(session=session, settings=settings, area=area, date=date))
        except NotFound:
            if len(areas) == 1:
                raise
    if not days:
        raise NotFound(f"no plan is published for {date} yet")
    crews = [crew for _, area_crews in days for crew in area_crews]
    one = days[0][0] if len(days) == 1 else None
    return DailyReportPublic(
        date=date,
        area_code=areas[0] if len(areas) == 1 else None,
        plan_id=one.plan_id if one else None,
        plan_version=one.plan_version if one else None,
        timezone=one.timezone if one else settings.timezone,
        crews=crews,
        total=_total(crews),
        by_area=[day for day, _ in days],
    )


def _area_day(
    *, session: Session, settings: ServiceSettings, area: str, date: dt.date
) -> tuple[AreaDayPublic, list[CrewDayPublic]]:
    """One area's crews on its published plan, judged by its own settings and time zone."""
    settings = local_settings(session=session, settings=settings, area=area)
    plan = published_plan(session=session, date=date, area=area)
    routes = {
        route.vehicle_code: route
        for route in session.exec(select(PlanRoute).where(PlanRoute.plan_id == plan.id))
    }
    stops, orders, events = _played(session, settings, plan, date)
    money = day_cash(session, area=area, date=date, vehicle_codes=list(routes))
    charges = _charges(session, area, date)
    vehicles = {
        v.code: v for v in session.exec(select(Vehicle).where(col(Vehicle.code).in_(list(money))))
    }
    crews = crews_on(session=session, date=date)
    report = []
    for code in sorted(money):
        crew = CrewDayPublic(
            vehicle_code=code,
            vehicle_name=vehicles[code].name if code in vehicles else "",
            crew=[member.name for member in crews.get(code, [])],
            planned_km=round(routes[code].distance_m / 1000, 1) if code in routes else 0.0,
        )
        for stop in stops.get(code, []):
            events.count(crew, orders[stop.order_id], settings, date)
        _add_money(crew, money[code])
        crew.paid_visits = charges[code].count(Charge.PAID)
        crew.free_visits = charges[code].count(Charge.WARRANTY) + charges[code].count(Charge.WAIVED)
        report.append(crew)
    day = AreaDayPublic(
        area_code=area,
        plan_id=plan.id or 0,
        plan_version=plan.version,
        timezone=settings.timezone,
        crews=[crew.vehicle_code for crew in report],
        total=_total(report),
    )
    return day, report


def _played(
    session: Session, settings: ServiceSettings, plan: Plan, date: dt.date
) -> tuple[dict[str, list[PlanStop]], dict[int | None, Order], _Events]:
    """The plan's stops by crew, their orders, and what the ledger says happened at them."""
    stops: dict[str, list[PlanStop]] = {}
    for stop in session.exec(select(PlanStop).where(PlanStop.plan_id == plan.id)):
        stops.setdefault(stop.vehicle_code, []).append(stop)
    ids = [stop.order_id for crew in stops.values() for stop in crew]
    orders = {o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(ids)))}
    kinds = (Kind.ARRIVED, *OUTCOME_KINDS)
    rows = list(effective(entries(session, area=plan.area_code, date=date, kinds=kinds)))
    events = _Events(
        outcomes=latest_outcomes(rows),
        arrivals=_first_arrivals(rows),
        zone=ZoneInfo(settings.timezone),
    )
    return stops, orders, events


@dataclass(frozen=True, slots=True)
class StopFact:
    """One stop of a published plan as the daily report counts it."""

    vehicle_code: str
    order: Order
    outcome: str  # delivered, partial, failed or not_reported
    arrival: str | None  # on_time, early or late; None without a recorded arrival


def stop_facts(
    *, session: Session, settings: ServiceSettings, area: str, date: dt.date
) -> list[StopFact]:
    """Every stop of the area's published plan of the day, judged exactly as daily_report
    judges it, so figures built from these (the KPIs) agree with the daily report. 404
    without a plan. `settings` are the area's own (local_settings)."""
    plan = published_plan(session=session, date=date, area=area)
    stops, orders, events = _played(session, settings, plan, date)
    facts = []
    for code in sorted(stops):
        for stop in stops[code]:
            order = orders[stop.order_id]
            outcome, _reason = events.outcome(order)
            arrival = events.punctuality(order, settings, date)
            facts.append(StopFact(code, order, outcome, arrival))
    return facts


def _first_arrivals(rows: Sequence[LedgerEntry]) -> dict[int, LedgerEntry]:
    first: dict[int, LedgerEntry] = {}
    for row in rows:
        if row.kind == Kind.ARRIVED and row.order_id is not None:
            first.setdefault(row.order_id, row)
    return first


class _Events:
    """Each stop's outcome and punctuality, counted into its crew's row."""

    def __init__(
        self,
        *,
        outcomes: dict[int, LedgerEntry],
        arrivals: dict[int, LedgerEntry],
        zone: ZoneInfo,
    ) -> None:
        self.outcomes = outcomes
        self.arrivals = arrivals
        self.zone = zone

    def count(
        self, crew: CrewDayPublic, order: Order, settings: ServiceSettings, date: dt.date
    ) -> None:
        crew.planned_stops += 1
        outcome, reason = self.outcome(order)
        setattr(crew, outcome, getattr(crew, outcome) + 1)
        if reason is not None:
            crew.failed_reasons[reason] = crew.failed_reasons.get(reason, 0) + 1
        arrival = self.punctuality(order, settings, date)
        if arrival is not None:
            setattr(crew, arrival, getattr(crew, arrival) + 1)

    def outcome(self, order: Order) -> tuple[str, str | None]:
        """delivered, partial, failed or not_reported; with the reason of a failure."""
        outcome = self.outcomes.get(order.id or 0)
        if outcome is None:
            return "not_reported", None
        if outcome.kind == Kind.FAILED:
            return "failed", str(outcome.payload.get("reason", "unknown"))
        return ("delivered" if outcome.payload.get("complete", True) else "partial"), None

    def punctuality(self, order: Order, settings: ServiceSettings, date: dt.date) -> str | None:
        """on_time, early or late by the first arrival against the visit's window (its slot,
        or the time agreed for a repair); None without one."""
        arrival = self.arrivals.get(order.id or 0)
        moment = self._local(arrival.payload.get("at")) if arrival else None
        if moment is None:
            return None
        opens, closes = visit_window(order, settings)
        when = (moment.date(), seconds_of_day(moment.time()))
        if when < (date, opens):
            return "early"
        if when > (date, closes):
            return "late"
        return "on_time"

    def _local(self, at: object) -> dt.datetime | None:
        """The device's arrival time in the store's zone; a time without an offset is taken
        as the store's own wall clock."""
        if not isinstance(at, str):
            return None
        try:
            moment = dt.datetime.fromisoformat(at)
        except ValueError:
            return None
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(self.zone).replace(tzinfo=None)


def _charges(session: Session, area: str, date: dt.date) -> defaultdict[str, list[Charge]]:
    """Vehicle code -> what each of its ticket visits of the day was charged."""
    charges: defaultdict[str, list[Charge]] = defaultdict(list)
    for visit in visit_fees(session, area=area, date=date):
        charges[visit.vehicle_code].append(visit.charge)
    return charges


def _add_money(crew: CrewDayPublic, cash: CrewCash) -> None:
    crew.cash_expected_cny = cny(cash.expected)
    crew.collected_cash_cny = cny(cash.collected_cash)
    crew.collected_transfer_cny = cny(cash.collected_transfer)
    crew.deposited_cny = cny(cash.deposited)
    crew.handed_over_cny = cny(cash.handed_over)
    crew.on_board_cny = cny(cash.on_board)
    crew.fee_cash_cny = cny(cash.fee_cash)
    crew.fee_transfer_cny = cny(cash.fee_transfer)


COUNTS: tuple[str, ...] = ("planned_stops", "delivered", "partial", "failed", "not_reported")
COUNTS += ("on_time", "early", "late", "paid_visits", "free_visits")
AMOUNTS: tuple[str, ...] = ("planned_km", "cash_expected_cny", "collected_cash_cny")
AMOUNTS += ("collected_transfer_cny", "deposited_cny", "handed_over_cny", "on_board_cny")
AMOUNTS += ("fee_cash_cny", "fee_transfer_cny")


def _total(crews: Sequence[CrewDayPublic]) -> CrewDayPublic:
    total = CrewDayPublic(vehicle_code="total")
    reasons: Counter[str] = Counter()
    for crew in crews:
        reasons.update(crew.failed_reasons)
        for name in COUNTS:
            setattr(total, name, getattr(total, name) + getattr(crew, name))
    # Summed from the rounded rows, so the total row adds up on paper too.
    for name in AMOUNTS:
        setattr(total, name, round(sum(getattr(crew, name) for crew in crews), 2))
    total.failed_reasons = dict(sorted(reasons.items()))
    return total


HEAD = ("vehicle", "vehicle_name", "crew", *COUNTS[:4], "failed_reasons", *COUNTS[4:], *AMOUNTS)
HEAD += ("area",)


def daily_report_csv(report: DailyReportPublic) -> bytes:
    """One row per crew, then the total row (its vehicle column says total). Over several
    areas, each area's crews are followed by that area's total row, and the last row is the
    total of them all (its area column empty)."""
    rows = [_csv_row(crew, area) for area, crews in _by_area(report) for crew in crews]
    rows.append(_csv_row(report.total, report.area_code or ""))
    return csv_bytes((HEAD, rows))


def _by_area(report: DailyReportPublic) -> list[tuple[str, list[CrewDayPublic]]]:
    crews = {crew.vehicle_code: crew for crew in report.crews}
    several = len(report.by_area) > 1
    return [
        (day.area_code, [crews[code] for code in day.crews] + ([day.total] if several else []))
        for day in report.by_area
    ]


def _csv_row(crew: CrewDayPublic, area: str) -> tuple[object, ...]:
    reasons = "; ".join(f"{k}: {n}" for k, n in sorted(crew.failed_reasons.items()))
    return (
        crew.vehicle_code,
        crew.vehicle_name,
        "; ".join(crew.crew),
        *(getattr(crew, name) for name in COUNTS[:4]),
        reasons,
        *(getattr(crew, name) for name in COUNTS[4:]),
        f"{crew.planned_km:.1f}",
        *(f"{getattr(crew, name):.2f}" for name in AMOUNTS[1:]),
        area,
    )

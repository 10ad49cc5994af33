"""Ticket response times over a date range, in total and per technician.

The tickets counted are those opened in the range (the store's days); each clock is read
with api.tickets.clocks, the same reading as the ticket report's breaches.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field, fields
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.kpis.models import AveragePublic, RatePublic, TicketKpiPublic
from api.tickets.clocks import answer_clock, contact_clock, fixed_first_time
from api.tickets.models import Ticket


@dataclass(slots=True)
class TicketTally:
    """Counts over a set of tickets; every ticket figure is built from these."""

    opened: int = 0
    answer_hours: list[float] = field(default_factory=list)
    answered_met: int = 0
    answered_decided: int = 0
    contact_met: int = 0
    contact_decided: int = 0
    closed: int = 0
    fixed_first: int = 0
    scored: int = 0
    score_points: int = 0

    def add(self, ticket: Ticket, settings: ServiceSettings, now: dt.datetime) -> None:
        self.opened += 1
        answer = answer_clock(ticket, settings)
        if (elapsed := answer.elapsed()) is not None:
            self.answer_hours.append(elapsed.total_seconds() / 3600)
        self.answered_met += answer.met()
        self.answered_decided += answer.decided(now)
        contact = contact_clock(ticket, settings)
        self.contact_met += contact.met()
        self.contact_decided += contact.decided(now)
        fixed = fixed_first_time(ticket)
        if fixed is not None:
            self.closed += 1
            self.fixed_first += fixed
            if ticket.satisfaction is not None:
                self.scored += 1
                self.score_points += ticket.satisfaction

    def merge(self, other: TicketTally) -> None:
        """Add another set's counts: an area's to the chain's."""
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def tallies(
    *,
    session: Session,
    settings: ServiceSettings,
    area: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
) -> tuple[TicketTally, dict[str, TicketTally]]:
    """The area's tickets opened from start to end (its days, by its `settings`), and those
    of them per assigned vehicle."""
    zone = ZoneInfo(settings.timezone)
    since = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    query = select(Ticket).where(
        Ticket.area_code == area, col(Ticket.opened_at) >= since, col(Ticket.opened_at) < until
    )
    total = TicketTally()
    by_vehicle: dict[str, TicketTally] = {}
    for ticket in session.exec(query.order_by(col(Ticket.id))):
        total.add(ticket, settings, now)
        if ticket.vehicle_code:
            by_vehicle.setdefault(ticket.vehicle_code, TicketTally()).add(ticket, settings, now)
    return total, by_vehicle


def rate(numerator: int, denominator: int) -> RatePublic:
    value = round(numerator / denominator, 4) if denominator else None
    return RatePublic(numerator=numerator, denominator=denominator, rate=value)


def average(count: int, total: int) -> AveragePublic:
    return AveragePublic(
        count=count, total=total, average=round(total / count, 2) if count else None
    )


def _p90(hours: list[float]) -> float | None:
    if len(hours) < 2:
        return hours[0] if hours else None
    return statistics.quantiles(hours, n=10, method="inclusive")[-1]


def public(tally: TicketTally) -> TicketKpiPublic:
    hours = sorted(tally.answer_hours)
    median = statistics.median(hours) if hours else None
    p90 = _p90(hours)
    return TicketKpiPublic(
        opened=tally.opened,
        answered=len(hours),
        hours_to_answer_median=None if median is None else round(median, 2),
        hours_to_answer_p90=None if p90 is None else round(p90, 2),
        answered_in_time=rate(tally.answered_met, tally.answered_decided),
        contacted_in_time=rate(tally.contact_met, tally.contact_decided),
        closed=tally.closed,
        first_visit_fix=rate(tally.fixed_first, tally.closed),
        satisfaction=average(tally.scored, tally.score_points),
    )

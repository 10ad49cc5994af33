"""A ticket's service-level clocks, read one way by the ticket report and by the KPIs."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.tickets.models import Breaches, Ticket, TicketFigures, TicketReport, TicketStatus

AGE_BUCKETS = ("<12h", "12-24h", "1-3d", ">3d")


@dataclass(frozen=True, slots=True)
class SlaClock:
    """A clock started at `started`, stopped at `stopped`, breached past `limit`."""

    started: dt.datetime | None
    stopped: dt.datetime | None
    limit: dt.timedelta

    def elapsed(self) -> dt.timedelta | None:
        """How long it ran, once it has stopped."""
        if self.started is None or self.stopped is None:
            return None
        return self.stopped - self.started

    def late(self, now: dt.datetime) -> bool:
        """Breached: stopped, or still running, past the limit."""
        if self.started is None:
            return False
        return (self.stopped or now) - self.started > self.limit

    def met(self) -> bool:
        """Stopped within the limit."""
        elapsed = self.elapsed()
        return elapsed is not None and elapsed <= self.limit

    def decided(self, now: dt.datetime) -> bool:
        """Met or breached; a clock still running within its limit is neither yet."""
        return self.met() or self.late(now)


def answer_clock(ticket: Ticket, settings: ServiceSettings) -> SlaClock:
    limit = dt.timedelta(hours=settings.ticket_answer_hours)
    return SlaClock(ticket.opened_at, ticket.answered_at, limit)


def contact_clock(ticket: Ticket, settings: ServiceSettings) -> SlaClock:
    limit = dt.timedelta(minutes=settings.ticket_contact_minutes)
    return SlaClock(ticket.assigned_at, ticket.contacted_at, limit)


def follow_up_clock(ticket: Ticket, settings: ServiceSettings) -> SlaClock:
    limit = dt.timedelta(days=settings.ticket_follow_up_days)
    return SlaClock(ticket.closed_at, ticket.follow_up_done_at, limit)


def fixed_first_time(ticket: Ticket) -> bool | None:
    """Closed after exactly one visit; None while the ticket is still open."""
    if ticket.status != TicketStatus.CLOSED:
        return None
    return ticket.visits == 1


def _age_bucket(age: dt.timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 12:
        return "<12h"
    if hours < 24:
        return "12-24h"
    return "1-3d" if hours <= 72 else ">3d"


def report(
    *, session: Session, settings: ServiceSettings, now: dt.datetime, areas: Sequence[str]
) -> TicketReport:
    """The figures of the tickets of `areas`, summed and then area by area."""
    tickets = list(session.exec(select(Ticket).where(col(Ticket.area_code).in_(areas))))
    by_area = {
        area: _figures([t for t in tickets if t.area_code == area], settings, now) for area in areas
    }
    return TicketReport(
        as_of=now,
        areas=list(areas),
        by_area=by_area,
        **_figures(tickets, settings, now).model_dump(),
    )


def _figures(
    tickets: Sequence[Ticket], settings: ServiceSettings, now: dt.datetime
) -> TicketFigures:
    ages = dict.fromkeys(AGE_BUCKETS, 0)
    breaches = Breaches()
    for t in tickets:
        if t.status != TicketStatus.CLOSED:
            ages[_age_bucket(now - t.opened_at)] += 1
        breaches.answer += answer_clock(t, settings).late(now)
        breaches.contact += contact_clock(t, settings).late(now)
        breaches.follow_up += follow_up_clock(t, settings).late(now)
    closed = [t for t in tickets if t.status == TicketStatus.CLOSED]
    scores = [t.satisfaction for t in closed if t.satisfaction is not None]
    fixed_first = sum(bool(fixed_first_time(t)) for t in closed)
    return TicketFigures(
        open_by_age=ages,
        breaches=breaches,
        closed=len(closed),
        first_visit_fix_rate=round(fixed_first / len(closed), 4) if closed else None,
        average_satisfaction=round(statistics.fmean(scores), 2) if scores else None,
    )

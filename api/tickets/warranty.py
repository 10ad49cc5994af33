"""Whether a ticket's product is still under warranty: its purchase date plus the warranty
months of its product type (settings), against the day of the service.

Under warranty the visit is free (无偿服务); otherwise the price list applies (有偿服务).
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from api.core.config import ServiceSettings
from api.core.errors import RuleBroken
from api.tickets.models import Ticket


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, the month's last day where it has fewer (31 Jan -> 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def warranty_until(ticket: Ticket, settings: ServiceSettings) -> dt.date | None:
    """The warranty's last day; None while the product type or purchase date is unknown."""
    if ticket.product_type is None or ticket.purchase_date is None:
        return None
    months = settings.warranty_months.get(ticket.product_type)
    if months is None:
        known = ", ".join(sorted(settings.warranty_months))
        raise RuleBroken(
            f"product_type {ticket.product_type!r} has no warranty months; one of: {known}",
            field="product_type",
            rule="known_product_type",
        )
    # Free up to and including the same date `months` later (保修一年: to that day next year).
    return add_months(ticket.purchase_date, months)


def service_day(ticket: Ticket, settings: ServiceSettings, now: dt.datetime) -> dt.date:
    """The agreed on-site day in the store's zone, or today while none is agreed."""
    moment = ticket.on_site_at or now
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def stamp_warranty(ticket: Ticket, settings: ServiceSettings, now: dt.datetime) -> None:
    """Work the warranty out again from the ticket as it now stands (`settings` the area's)."""
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    if ticket.purchase_date is not None and ticket.purchase_date > today:
        raise RuleBroken(
            f"purchase_date {ticket.purchase_date} is after today ({today})",
            field="purchase_date",
            rule="not_future",
        )
    until = warranty_until(ticket, settings)
    ticket.warranty_until = until
    ticket.under_warranty = None if until is None else service_day(ticket, settings, now) <= until

"""Whether a plan was published by the cut-off on the day before its date.

The warehouse loads from the published plan and the installation reminders go out when it is
published, both promised by the cut-off; a later publish is allowed, since a late plan beats
none, but everybody downstream must hear that it came late.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from optimizer.settings import DispatchSettings


def cutoff_of(settings: DispatchSettings, date: dt.date) -> dt.datetime:
    """The cut-off for publishing the plan of `date`: on the day before, in the store's zone."""
    day_before = date - dt.timedelta(days=1)
    return dt.datetime.combine(day_before, settings.publish_cutoff, ZoneInfo(settings.timezone))


def minutes_late(settings: DispatchSettings, date: dt.date, published_at: dt.datetime) -> int:
    """Whole minutes past the cut-off at `published_at`; 0 when published in time."""
    if published_at.tzinfo is None:  # stored instants are UTC
        published_at = published_at.replace(tzinfo=dt.UTC)
    late = published_at - cutoff_of(settings, date)
    return max(0, int(late.total_seconds() // 60))


def late_warning(settings: DispatchSettings, date: dt.date, minutes: int) -> str:
    """What a publish `minutes` late (minutes_late) means downstream; empty when in time."""
    if not minutes:
        return ""
    cutoff = cutoff_of(settings, date)
    return (
        f"published {minutes} min after the {cutoff:%H:%M} cut-off of {cutoff:%Y-%m-%d}: "
        "tell the warehouse, and the installation reminders go out late"
    )

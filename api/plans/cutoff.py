"""Whether a plan was published by the cut-off on the day before its date.

The warehouse loads from the published plan and the installation reminders go out when it is
published, both promised by the cut-off; a later publish is allowed, since a late plan beats
none, but everybody downstream must hear that it came late. Each area has its own cut-off,
on its own wall clock: pass the settings of the plan's area (`area_cutoff`).
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from api.areas.service import get_area, overrides_of
from optimizer.settings import DispatchSettings

_DECIDING = ("publish_cutoff", "timezone")  # the settings the cut-off is made of
Settings = TypeVar("Settings", bound=DispatchSettings)


def area_cutoff(*, session: Session, settings: Settings, area: str) -> Settings:
    """`settings` with the publish cut-off and time zone of `area` in force."""
    found = overrides_of(get_area(session=session, code=area))
    return settings.model_copy(update={name: found[name] for name in _DECIDING if name in found})


def cutoff_of(settings: DispatchSettings, date: dt.date) -> dt.datetime:
    """The cut-off for publishing the plan of `date`: on the day before, in the area's zone."""
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

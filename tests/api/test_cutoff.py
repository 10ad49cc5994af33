"""The publishing cut-off: on the day before the plan's date, in the store's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from api.plans.cutoff import late_warning, minutes_late
from optimizer.settings import DispatchSettings

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 27)
EVE = DAY - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("published_at", "late"),
    [
        (dt.datetime.combine(EVE, dt.time(16, 59), ZONE), 0),  # a minute to spare
        (dt.datetime.combine(EVE, dt.time(17, 0), ZONE), 0),  # on the stroke of the cut-off
        (dt.datetime.combine(EVE, dt.time(17, 40, 59), ZONE), 40),  # whole minutes count
        (dt.datetime.combine(DAY, dt.time(7, 0), ZONE), 14 * 60),  # on the morning itself
        (dt.datetime(2026, 11, 26, 9, 30), 30),  # stored naive instants are UTC: 17:30 local
        (dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC), 30),  # the same instant, aware
    ],
)
def test_minutes_late_counts_from_the_cut_off_of_the_day_before(
    published_at: dt.datetime, late: int
) -> None:
    """Whole minutes after 17:00 on the eve, in the store's zone; none before."""
    assert minutes_late(DispatchSettings(), DAY, published_at) == late


def test_the_warning_names_the_delay_and_follows_the_setting() -> None:
    """A later cut-off in the settings makes the publish timely; a late one says how late."""
    moment = dt.datetime.combine(EVE, dt.time(17, 40), ZONE)
    later = DispatchSettings(publish_cutoff=dt.time(18, 0))
    assert late_warning(later, DAY, minutes_late(later, DAY, moment)) == ""
    usual = DispatchSettings()
    warning = late_warning(usual, DAY, minutes_late(usual, DAY, moment))
    assert "40 min after the 17:00 cut-off of 2026-11-26" in warning

"""The service's notion of now, in the store's time zone; replaceable so tests can fix a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request


@dataclass
class Clock:
    timezone: str
    fixed: dt.datetime | None = None  # set in tests and demos to plan as of a given moment

    def now(self) -> dt.datetime:
        zone = ZoneInfo(self.timezone)
        return self.fixed.astimezone(zone) if self.fixed else dt.datetime.now(zone)

    def today(self) -> dt.date:
        return self.now().date()

    def now_in(self, timezone: str) -> dt.datetime:
        """Now on an area's wall clock: a chain spans time zones, its clock is one instant."""
        return self.now().astimezone(ZoneInfo(timezone))

    def today_in(self, timezone: str) -> dt.date:
        return self.now_in(timezone).date()


async def get_clock(request: Request) -> Clock:  # async: no worker thread to read state
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]

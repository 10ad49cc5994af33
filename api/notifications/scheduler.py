"""Customers are told on time without anyone pressing a button.

Every tick: tomorrow's day-before notices as soon as its plan is published (the store
promises them by 19:00; a plan still unpublished then is logged as late), today's
arriving-soon and delay notices from the crews' progress, then everything pending is sent.
Generating is idempotent per visit and kind, so ticks may repeat freely.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.areas.service import area_settings, list_areas
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.core.errors import NotFound
from api.core.ticker import Ticker
from api.notifications import service
from api.notifications.senders import sender_for

log = logging.getLogger(__name__)
TICK_S = 60.0


def notify_tick(*, engine: Engine, settings: ServiceSettings, now: dt.datetime) -> dict[str, int]:
    """One round of generating and sending; counts of what it did, for logs and tests.

    Each area is told on its own wall clock, with its own slot hours: tomorrow in Urumqi
    begins two hours after tomorrow in Shanghai.
    """
    done = {"day_before": 0, "due": 0, "sent": 0}
    with Session(engine, expire_on_commit=False) as session:
        for area in list_areas(session=session):
            try:
                made = _area_tick(session, area_settings(settings, area), area.code, now)
            except Exception:
                # One area's bad day must not keep the others' customers uninformed.
                session.rollback()
                log.exception("notifications of area %s failed; trying again", area.code)
                continue
            done["day_before"] += made[0]
            done["due"] += made[1]
        sent = service.deliver_pending(session=session, sender=sender_for(settings))
        done["sent"] = sent.sent
    return done


def _area_tick(
    session: Session, local: ServiceSettings, area: str, now: dt.datetime
) -> tuple[int, int]:
    here = now.astimezone(ZoneInfo(local.timezone))
    tomorrow = here.date() + dt.timedelta(days=1)
    made = 0
    try:
        made = service.day_before(session=session, settings=local, date=tomorrow, area=area).created
    except NotFound:
        if here.time() >= local.customer_notice_by:
            log.warning(
                "area %s: no plan published for %s by %s: customers not told", area, tomorrow, here
            )
    due = service.due_notices(session=session, settings=local, now=now, area=area).created
    return made, due


class Notifier(Ticker):
    """A thread running notify_tick every TICK_S seconds on the service's clock."""

    name = "notifier"

    def __init__(
        self, engine: Engine, settings: ServiceSettings, clock: Clock, *, tick_s: float = TICK_S
    ) -> None:
        super().__init__(tick_s=tick_s)
        self.engine = engine
        self.settings = settings
        self.clock = clock

    def tick(self) -> dict[str, int]:
        return notify_tick(engine=self.engine, settings=self.settings, now=self.clock.now())

"""Customers are told on time without anyone pressing a button.

Every tick: tomorrow's day-before notices as soon as its plan is published (the store
promises them by 19:00; a plan still unpublished then is logged as late), today's
arriving-soon and delay notices from the crews' progress, then everything pending is sent.
Generating is idempotent per visit and kind, so ticks may repeat freely.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.core.errors import NotFound
from api.notifications import service
from api.notifications.senders import sender_for

log = logging.getLogger(__name__)
TICK_S = 60.0


def notify_tick(*, engine: Engine, settings: ServiceSettings, now: dt.datetime) -> dict[str, int]:
    """One round of generating and sending; counts of what it did, for logs and tests."""
    tomorrow = now.date() + dt.timedelta(days=1)
    done = {"day_before": 0, "due": 0, "sent": 0}
    with Session(engine, expire_on_commit=False) as session:
        try:
            made = service.day_before(session=session, settings=settings, date=tomorrow)
            done["day_before"] = made.created
        except NotFound:
            if now.time() >= settings.customer_notice_by:
                log.warning("no plan published for %s by %s: customers not told", tomorrow, now)
        done["due"] = service.due_notices(session=session, settings=settings, now=now).created
        sent = service.deliver_pending(session=session, sender=sender_for(settings))
        done["sent"] = sent.sent
    return done


class Notifier:
    """A thread running notify_tick every TICK_S seconds on the service's clock."""

    def __init__(
        self, engine: Engine, settings: ServiceSettings, clock: Clock, *, tick_s: float = TICK_S
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.tick_s = tick_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="notifier", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                notify_tick(engine=self.engine, settings=self.settings, now=self.clock.now())
            except Exception:
                log.exception("notifications: tick failed; trying again")
            if self._stopping.wait(self.tick_s):
                return

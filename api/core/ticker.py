"""A background thread that calls `tick` every few seconds until the service stops."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Ticker:
    """Subclasses implement `tick`; a failing tick is logged and tried again next time, so
    one bad round (a database restart) never stops the daily work for good."""

    name = "ticker"

    def __init__(self, *, tick_s: float) -> None:
        self.tick_s = tick_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("%s: tick failed; trying again", self.name)
            if self._stopping.wait(self.tick_s):
                return

"""Failed sign-ins slow a client down: after a few free tries each costs twice the wait.

Only the client that keeps failing waits, and it waits by being answered 429 with
Retry-After, never by a sleep that would hold a server thread. A success does not reset
the count (a client with one good key could otherwise guess on between its own calls);
a quiet stretch as long as the longest wait forgets it. Kept in memory: the service runs
as one process, and a restart forgetting the count only costs an attacker nothing new.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from fastapi import Request
from sqlmodel import Session

from api.auth.service import Principal, authenticate
from api.core.config import ServiceSettings
from api.core.errors import TooManyAttempts, Unauthorized

MAX_CLIENTS = 10_000  # past this many failing clients, those quiet longest are forgotten


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    blocked_until: float


class SignInThrottle:
    def __init__(self, settings: ServiceSettings) -> None:
        self.free = settings.sign_in_free_failures
        self.base = settings.sign_in_backoff_seconds
        self.longest = settings.sign_in_max_backoff_seconds
        self._clients: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Refuse a client still locked out, saying for how long."""
        with self._lock:
            record = self._clients.get(client)
            wait = 0.0 if record is None else record.blocked_until - time.monotonic()
        if wait > 0:
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )

    def failed(self, client: str) -> None:
        moment = time.monotonic()
        with self._lock:
            record = self._clients.get(client)
            if record is None or moment - record.last > self.longest:
                record = self._clients[client] = _Failures(0, moment, moment)
            record.count += 1
            record.last = moment
            beyond = min(record.count - self.free, 32)  # 2**32 waits outlast any maximum
            if beyond > 0:
                record.blocked_until = moment + min(self.longest, self.base * 2 ** (beyond - 1))
            if len(self._clients) > MAX_CLIENTS:
                self._forget_quiet(moment)

    def _forget_quiet(self, moment: float) -> None:
        for name, record in list(self._clients.items()):
            if moment - record.last > self.longest:
                del self._clients[name]


def throttled_authenticate(request: Request, *, session: Session, key: str) -> Principal:
    """A key checked under the throttle of the client presenting it."""
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    client = request.client.host if request.client else ""
    throttle.check(client)
    try:
        return authenticate(session=session, key=key)
    except Unauthorized:
        throttle.failed(client)
        raise

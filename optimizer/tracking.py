"""One account of a solve's progress for its caller, however many searches report.

A solve runs several searches, one after another and several processes at once, each on
its own clock and some on only a part of the day. Relayed as they came, a bar jumped between
them (83.8% -> 16.6% -> 85.6% on a 5,000-visit day) and started again at the last stage.
The caller sees instead the share of the whole time limit used, which never goes back, and
the plan the solve would return now: the portfolio's own latest best, or before it has one
(and when a search then routes more), the best any search has reported: most visits
routed, then fewest metres.
"""

from __future__ import annotations

import time
from dataclasses import replace

from optimizer.engine import Progress, ProgressCallback


class Tracker:
    """A progress callback that turns the searches' reports into one steady account."""

    def __init__(self, callback: ProgressCallback, time_limit_s: float, started: float) -> None:
        self.callback = callback
        self.time_limit_s = time_limit_s
        self.started = started  # time.monotonic() when the time limit began to run
        self.elapsed_s = 0.0
        self.best = Progress(0.0, time_limit_s, 0, 0, 0)

    def __call__(self, update: Progress) -> bool:
        now = time.monotonic() - self.started
        self.elapsed_s = max(self.elapsed_s, min(now, self.time_limit_s))
        if self._better(update):
            self.best = update
        steady = replace(self.best, elapsed_s=self.elapsed_s, time_limit_s=self.time_limit_s)
        return bool(self.callback(steady))

    def _better(self, update: Progress) -> bool:
        # The portfolio's own best may route fewer visits on fewer km (its objective weighs
        # both), and it is what the solve returns: it stands. A search's report counts only
        # when it routes more, or as many on fewer metres, so a part of the day, searched in
        # rounds, never stands for the whole (at 5,000 visits the figures froze on the first
        # whole-day plan for 70% of the time while the rounds cut 1,900 km).
        if update.settled:
            return True
        return update.visits_routed > 0 and (update.visits_routed, -update.distance_m) > (
            self.best.visits_routed,
            -self.best.distance_m,
        )

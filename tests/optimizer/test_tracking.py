"""The tracker: one steady account of a solve from searches that report on their own clocks."""

from __future__ import annotations

import time

from optimizer.engine import Progress
from optimizer.tracking import Tracker


def test_reports_of_several_searches_become_one_steady_account() -> None:
    """Interleaved searches' own clocks and partial plans never move the account backwards."""
    seen: list[Progress] = []
    track = Tracker(seen.append, 10.0, time.monotonic() - 4.0)
    reports = [
        Progress(8.4, 10.0, 500, 100, 400_000),  # the whole day, on its own clock
        Progress(1.7, 10.0, 900, 30, 90_000),  # a part of the day, started later
        Progress(8.6, 10.0, 480, 100, 380_000),  # the whole day again, a shorter plan
        Progress(0.0, 2.0, 470, 101, 390_000),  # the last stage, timed from its own start
        Progress(0.1, 10.0, 0, 0, 0),  # a search that holds no plan yet
    ]
    for report in reports:
        track(report)
    assert [p.time_limit_s for p in seen] == [10.0] * 5
    assert all(3.9 < p.elapsed_s < 10 for p in seen)
    assert [p.elapsed_s for p in seen] == sorted(p.elapsed_s for p in seen)
    assert [(p.visits_routed, p.distance_m) for p in seen] == [
        (100, 400_000),
        (100, 400_000),
        (100, 380_000),
        (101, 390_000),
        (101, 390_000),
    ]


def test_share_stops_at_the_time_limit() -> None:
    """A solve that overruns its limit reports the whole limit used, not more."""
    seen: list[Progress] = []
    Tracker(seen.append, 5.0, time.monotonic() - 60.0)(Progress(1.0, 5.0, 0, 0))
    assert seen[0].elapsed_s == 5.0


def test_stop_request_is_passed_back() -> None:
    """The caller's wish to stop reaches the search that reported."""
    assert Tracker(lambda _: True, 5.0, time.monotonic())(Progress(1.0, 5.0, 0, 0)) is True
    assert Tracker(lambda _: None, 5.0, time.monotonic())(Progress(1.0, 5.0, 0, 0)) is False


def test_the_portfolios_own_best_stands_over_the_searches() -> None:
    """A settled plan replaces the figures even with fewer visits; later parts do not."""
    seen: list[Progress] = []
    track = Tracker(seen.append, 10.0, time.monotonic() - 4.0)
    track(Progress(3.0, 10.0, 900, 4450, 17_841_400))  # a whole-day search's first plan
    track(Progress(5.0, 10.0, 700, 4448, 16_100_000, settled=True))  # the best after a round
    track(Progress(1.0, 5.0, 300, 2224, 8_000_000))  # one part of the next round
    track(Progress(6.0, 10.0, 650, 4448, 15_875_300, settled=True))
    assert [(p.visits_routed, p.distance_m) for p in seen] == [
        (4450, 17_841_400),
        (4448, 16_100_000),
        (4448, 16_100_000),
        (4448, 15_875_300),
    ]

"""The board's timeline arithmetic: bars, slot bands and the drawn day, checked by hand."""

from __future__ import annotations

import pytest

from api.pages.timeline import Bar, TimedRoute, TimedStop, day_hours, route_bars, timeline

H = 3600  # one hour in seconds: the cases read as clock times
DAY = (8 * H, 12 * H)  # a four-hour drawn day: one hour is 25 %


def route(*stops: TimedStop, departure: int = 8 * H, back: int = 11 * H) -> TimedRoute:
    return TimedRoute("C01", departure, back, stops)


def shape(bars: list[Bar]) -> list[tuple[str, str, float, float]]:
    return [(bar.kind, bar.order, bar.span.left, bar.span.width) for bar in bars]


@pytest.mark.parametrize(
    ("timed", "expected"),
    [
        # No wait: drive 8:00-9:00, serve 9:00-10:00, drive back 10:00-11:00.
        (
            route(TimedStop("A", 9 * H, 9 * H, 10 * H)),
            [("travel", "A", 0.0, 25.0), ("service", "A", 25.0, 25.0), ("travel", "", 50.0, 25.0)],
        ),
        # Arrives 9:00 but the slot opens 10:00: an hour's wait bar, then service to 10:30.
        (
            route(TimedStop("A", 9 * H, 10 * H, 10 * H + 1800)),
            [
                ("travel", "A", 0.0, 25.0),
                ("wait", "A", 25.0, 25.0),
                ("service", "A", 50.0, 12.5),
                ("travel", "", 62.5, 12.5),
            ],
        ),
        # Two stops in one street: no drive between them, so no zero-width travel bar.
        (
            route(TimedStop("A", 9 * H, 9 * H, 10 * H), TimedStop("B", 10 * H, 10 * H, 11 * H)),
            [
                ("travel", "A", 0.0, 25.0),
                ("service", "A", 25.0, 25.0),
                ("service", "B", 50.0, 25.0),
            ],
        ),
        # An idle crew: no stops, no bars (not even a drive back).
        (route(departure=8 * H, back=8 * H), []),
        # Leaves 7:00, before the drawn day: the first bar is cut at its left edge.
        (
            route(TimedStop("A", 9 * H, 9 * H, 10 * H), departure=7 * H, back=10 * H),
            [("travel", "A", 0.0, 25.0), ("service", "A", 25.0, 25.0)],
        ),
    ],
)
def test_route_bars(timed: TimedRoute, expected: list[tuple[str, str, float, float]]) -> None:
    """Each stop is drive, wait, serve in percent of the day; empty parts are left out."""
    assert shape(route_bars(timed, DAY)) == expected


def test_bar_labels_name_the_visit_and_its_times() -> None:
    """A bar's label is the order, the customer and its clock times; the drive back has none."""
    bars = route_bars(route(TimedStop("SO-1", 9 * H, 9 * H, 9 * H + 1200, "张三")), DAY)
    assert [bar.label for bar in bars] == [
        "SO-1 张三 08:00–09:00",
        "SO-1 张三 09:00–09:20",
        "09:20–11:00",
    ]
    assert {(bar.span.start, bar.span.end) for bar in bars[:1]} == {(8 * H, 9 * H)}


@pytest.mark.parametrize(
    ("windows", "routes", "expected"),
    [
        # The two default slots alone: 8:00 to 18:00.
        ([(8 * H, 12 * H), (13 * H, 18 * H)], [], (8 * H, 18 * H)),
        # A 7:30-18:30 shift widens it to whole hours: 7:00 to 19:00.
        ([(8 * H, 12 * H), (7 * H + 1800, 18 * H + 1800)], [], (7 * H, 19 * H)),
        # A route back at 19:10 (past every window) is not cut off: to 20:00.
        ([(8 * H, 18 * H)], [route(departure=8 * H, back=19 * H + 600)], (8 * H, 20 * H)),
        # A window of a few minutes still draws a whole hour.
        ([(9 * H + 600, 9 * H + 1200)], [], (9 * H, 10 * H)),
    ],
)
def test_day_hours(
    windows: list[tuple[int, int]], routes: list[TimedRoute], expected: tuple[int, int]
) -> None:
    """The drawn day spans whole hours around every window and route."""
    assert day_hours(windows=windows, routes=routes) == expected


def test_day_hours_needs_something_to_draw() -> None:
    """With no window and no route there is no day to size."""
    with pytest.raises(ValueError, match="windows"):
        day_hours(windows=[])


def test_timeline_bands_ticks_and_rows() -> None:
    """Slot bands and shifts sit in percent of the day, with a tick on every hour."""
    drawn = timeline(
        routes=[route(TimedStop("A", 9 * H, 9 * H, 10 * H))],
        hours=DAY,
        slots={"morning": (8 * H, 10 * H), "afternoon": (11 * H, 13 * H)},
        shifts={"C01": (8 * H, 12 * H)},
    )
    # morning 8-10 is the first half; afternoon 11-13 is cut at the day's end (12:00).
    assert [(b.name, b.span.left, b.span.width) for b in drawn.bands] == [
        ("morning", 0.0, 50.0),
        ("afternoon", 75.0, 25.0),
    ]
    assert [(tick.label, tick.left) for tick in drawn.ticks] == [
        ("08:00", 0.0),
        ("09:00", 25.0),
        ("10:00", 50.0),
        ("11:00", 75.0),
        ("12:00", 100.0),
    ]
    (row,) = drawn.rows
    assert row.vehicle == "C01" and len(row.bars) == 3
    assert row.shift is not None and (row.shift.left, row.shift.width) == (0.0, 100.0)


def test_timeline_rounds_thirds() -> None:
    """Percentages are rounded to three places (a third of three hours is 33.333 %)."""
    drawn = timeline(routes=[], hours=(9 * H, 12 * H), slots={"morning": (9 * H, 10 * H)})
    assert (drawn.bands[0].span.left, drawn.bands[0].span.width) == (0.0, 33.333)
    assert drawn.rows == ()


def test_timeline_refuses_an_empty_day() -> None:
    """A day that ends before it starts is a programming error, named as such."""
    with pytest.raises(ValueError, match="hours"):
        timeline(routes=[], hours=(10 * H, 10 * H), slots={})


def test_a_bank_stop_is_a_deposit_bar_after_its_drive_and_wait() -> None:
    """Serve A 8:00-8:30, drive to the bank, wait for 9:30, bank to 9:45, drive back."""
    bank = TimedStop("ICBC", 9 * H, 9 * H + 1800, 9 * H + 2700, "存款 工商银行", kind="deposit")
    bars = route_bars(route(TimedStop("A", 8 * H, 8 * H, 8 * H + 1800), bank), DAY)
    assert shape(bars) == [
        ("service", "A", 0.0, 12.5),
        ("travel", "ICBC", 12.5, 12.5),
        ("wait", "ICBC", 25.0, 12.5),
        ("deposit", "ICBC", 37.5, 6.25),
        ("travel", "", 43.75, 31.25),
    ]
    assert bars[3].label == "ICBC 存款 工商银行 09:30–09:45"

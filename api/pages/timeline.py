"""The board's timeline: each crew's day as travel, waiting and service bars on one clock.

Pure: stored routes in seconds after midnight in, positions in percent of the day out, so
the page needs no script to draw it and the arithmetic is tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from optimizer.explain import hhmm

HOUR = 3600
Kind = Literal["travel", "wait", "service", "deposit"]


@dataclass(frozen=True)
class TimedStop:
    order: str  # external id; a bank stop's bank code
    arrival: int
    start: int  # service start, after any wait for the slot
    departure: int
    name: str = ""  # the customer, for the bar's tooltip
    kind: Literal["service", "deposit"] = "service"  # a deposit stop is at a bank


@dataclass(frozen=True)
class TimedRoute:
    vehicle: str
    departure: int
    return_time: int
    stops: Sequence[TimedStop]


@dataclass(frozen=True)
class Span:
    """A stretch of the day, and where it sits on the drawn day in percent."""

    start: int
    end: int
    left: float
    width: float


@dataclass(frozen=True)
class Bar:
    vehicle: str
    kind: Kind
    order: str  # the stop it leads to or happens at (a bank's code for a bank stop); "" for
    # the drive back to the depot
    label: str
    span: Span


@dataclass(frozen=True)
class Band:
    name: str  # the slot: morning, afternoon
    span: Span


@dataclass(frozen=True)
class Tick:
    label: str
    left: float


@dataclass(frozen=True)
class Row:
    vehicle: str
    bars: tuple[Bar, ...]
    shift: Span | None  # the crew's working hours, drawn faintly behind the bars


@dataclass(frozen=True)
class Timeline:
    start: int
    end: int
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]
    rows: tuple[Row, ...]


def day_hours(
    *, windows: Iterable[tuple[int, int]], routes: Sequence[TimedRoute] = ()
) -> tuple[int, int]:
    """Whole hours covering every window (slots, shifts) and every route, so nothing is cut."""
    starts = [start for start, _ in windows] + [route.departure for route in routes]
    ends = [end for _, end in windows] + [route.return_time for route in routes]
    if not starts:
        raise ValueError("windows: give at least one window or route to size the day")
    first = min(starts) // HOUR * HOUR
    last = -(-max(ends) // HOUR) * HOUR  # rounded up
    return first, max(last, first + HOUR)


def timeline(
    *,
    routes: Sequence[TimedRoute],
    hours: tuple[int, int],
    slots: Mapping[str, tuple[int, int]],
    shifts: Mapping[str, tuple[int, int]] | None = None,
) -> Timeline:
    """Bars for every route, slot bands and hourly ticks, placed on the day `hours`."""
    start, end = hours
    if end <= start:
        raise ValueError(f"hours: the day must end after it starts, got {hours}")
    shifts = shifts or {}
    rows = tuple(
        Row(
            vehicle=route.vehicle,
            bars=tuple(route_bars(route, hours)),
            shift=_span(*shifts[route.vehicle], hours) if route.vehicle in shifts else None,
        )
        for route in routes
    )
    bands = tuple(Band(name, _span(*window, hours)) for name, window in slots.items())
    ticks = tuple(
        Tick(hhmm(moment), _percent(moment, hours)) for moment in range(start, end + 1, HOUR)
    )
    return Timeline(start=start, end=end, bands=bands, ticks=ticks, rows=rows)


def route_bars(route: TimedRoute, hours: tuple[int, int]) -> list[Bar]:
    """Drive to each stop, wait for its window, serve it (or bank the cash); then drive back.
    Empty parts dropped."""
    bars: list[Bar] = []

    def add(kind: Kind, order: str, begin: int, finish: int, label: str) -> None:
        if finish > begin:
            text = f"{label} {hhmm(begin)}–{hhmm(finish)}".strip()
            bars.append(Bar(route.vehicle, kind, order, text, _span(begin, finish, hours)))

    ready = route.departure
    for stop in route.stops:
        label = f"{stop.order} {stop.name}".strip()
        add("travel", stop.order, ready, stop.arrival, label)
        add("wait", stop.order, stop.arrival, stop.start, label)
        add(stop.kind, stop.order, stop.start, stop.departure, label)
        ready = stop.departure
    if route.stops:
        add("travel", "", ready, route.return_time, "")
    return bars


def _span(begin: int, finish: int, hours: tuple[int, int]) -> Span:
    left = _percent(begin, hours)
    return Span(begin, finish, left, round(_percent(finish, hours) - left, 3))


def _percent(moment: int, hours: tuple[int, int]) -> float:
    # Clamped: a shift longer than the drawn day must not spill over the next row's label.
    start, end = hours
    share = (min(max(moment, start), end) - start) / (end - start)
    return round(share * 100, 3)

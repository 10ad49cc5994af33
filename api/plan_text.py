"""A plan and a running search as a dispatcher reads them in a terminal or a log file.

rich draws the crews' tables and the progress bar, and knows whether its output is a
terminal: there the bar redraws in place; in a log file a plain line is written every few
seconds instead, so a ten-minute run leaves a few dozen lines, not hundreds of redraws.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import BarColumn, TaskID, TaskProgressColumn, TextColumn
from rich.progress import Progress as Bar
from rich.table import Table

from optimizer.data import ProblemData
from optimizer.dayfile import VisitDetails
from optimizer.engine import Progress
from optimizer.explain import hhmm
from optimizer.result import Result, Route

PLAIN_EVERY_S = 5.0  # how often a log file hears how the search is going
TICK_S = 0.5  # how often the display's own clock moves the bar between reports
TEXT_WIDTH = 100  # columns of a plan written to a file or a pipe


def plan_words(visits_routed: int | None, distance_km: float | None) -> str:
    """The best plan so far in words; the CLI, the job resource and the board all say this."""
    if not visits_routed:
        return "no plan yet"
    return f"{visits_routed} visits routed, {distance_km or 0:,.1f} km"


def best_so_far(progress: Progress) -> str:
    return plan_words(progress.visits_routed, progress.distance_m / 1000)


class SearchDisplay:
    """A search's progress: a bar on a terminal, a plain line every few seconds elsewhere.

    Given the time limit, the display keeps its own clock too: a large day's search can go
    many seconds between reports, and the bar should not stand still meanwhile. The share
    shown is the larger of the clock's and the last report's, so it never goes back.
    """

    def __init__(
        self,
        console: Console,
        *,
        time_limit_s: float | None = None,
        plain_every_s: float = PLAIN_EVERY_S,
    ) -> None:
        self.console = console
        self.time_limit_s = time_limit_s
        self.plain_every_s = plain_every_s
        self._bar: Bar | None = None
        self._task = TaskID(0)
        self._next_line = 0.0
        self._last = (0.0, "no plan yet")
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._clock: threading.Thread | None = None

    def __enter__(self) -> SearchDisplay:
        if self.console.is_terminal:
            self._bar = Bar(
                TextColumn("planning"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[words]}"),
                console=self.console,
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("planning", total=1.0, words=self._last[1])
        self._next_line = time.monotonic()
        if self.time_limit_s:
            self._clock = threading.Thread(target=self._tick, args=(time.monotonic(),))
            self._clock.start()
        return self

    def update(self, fraction: float, words: str | None = None) -> None:
        with self._lock:
            share = max(self._last[0], min(1.0, fraction))
            self._last = (share, self._last[1] if words is None else words)
            if self._bar is not None:
                self._bar.update(self._task, completed=share, words=self._last[1])
            elif time.monotonic() >= self._next_line:
                self._next_line = time.monotonic() + self.plain_every_s
                self._line()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._clock is not None:
            self._clock.join()
        if self._bar is not None:
            self._bar.stop()
        elif kind is None:
            self._line()  # where the search ended, however soon after the last line

    def _tick(self, started: float) -> None:
        assert self.time_limit_s is not None
        # Stops short of the end: only the finished plan says 100%.
        while not self._done.wait(TICK_S):
            self.update(min((time.monotonic() - started) / self.time_limit_s, 0.99))

    def _line(self) -> None:
        share, words = self._last
        self.console.print(f"planning {share:6.1%}  {words}", highlight=False, soft_wrap=True)


def route_table(route: Route, details: Mapping[str, VisitDetails], crew: str) -> Table:
    title = (
        f"{route.vehicle_id} {crew}: leaves {hhmm(route.departure)}, "
        f"back {hhmm(route.return_time)}, {len(route.stops)} stops, {route.distance / 1000:.1f} km"
    )
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("visit")
    table.add_column("slot")
    for name in ("arrive", "start", "kg", "m3", "cash"):
        table.add_column(name, justify="right")
    for position, stop in enumerate(route.stops, start=1):
        detail = details.get(stop.visit_id)
        table.add_row(
            str(position),
            stop.visit_id,
            detail.slot if detail else "",
            hhmm(stop.arrival),
            hhmm(stop.start),
            f"{stop.weight_on_board / 1000:.0f}",
            f"{stop.volume_on_board / 1_000_000:.2f}",
            f"{stop.cash_on_board / 100:.0f}",
        )
    return table


def plan_renderables(
    data: ProblemData,
    result: Result,
    details: Mapping[str, VisitDetails],
    crews: Mapping[str, str],
) -> list[RenderableType]:
    """One table per crew, the visits left out with their reasons, then the summary."""
    parts: list[RenderableType] = [
        route_table(route, details, crews.get(route.vehicle_id, "")) for route in result.routes
    ]
    if result.unassigned:
        left_out = Table(
            title=f"Unassigned ({len(result.unassigned)})", title_justify="left", show_edge=False
        )
        for name in ("visit", "code", "reason"):
            left_out.add_column(name)
        for u in result.unassigned:
            left_out.add_row(u.visit_id, u.code.value, u.reason)
        parts.append(left_out)
    kpis = result.kpis
    parts.append(
        f"status {result.status.value}: {kpis.visits_routed}/{kpis.visits_total} visits routed "
        f"on {kpis.vehicles_used}/{len(data.vehicles)} crews, {kpis.distance_m / 1000:.1f} km, "
        f"{kpis.working_seconds / 3600:.1f} crew-hours, utilisation {kpis.utilisation:.0%}, "
        f"solved in {result.seconds:.1f} s"
    )
    parts += [f"  ! {reason}" for reason in result.reasons]
    return parts


def print_plan(
    console: Console,
    data: ProblemData,
    result: Result,
    details: Mapping[str, VisitDetails],
    crews: Mapping[str, str],
) -> None:
    """The plan on a console: tables drawn to the terminal's width, or TEXT_WIDTH in a file."""
    for part in plan_renderables(data, result, details, crews):
        console.print(part, markup=False, highlight=False, soft_wrap=isinstance(part, str))
        console.print()


def text_console(*, stderr: bool = False) -> Console:
    """A console for caller text: no markup, so a name like "[b]" is printed as written."""
    console = Console(stderr=stderr, markup=False, highlight=False)
    if not console.is_terminal:
        console.width = TEXT_WIDTH  # a pipe's 80 columns would wrap the tables
    return console

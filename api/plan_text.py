"""A plan as the text a dispatcher reads in a terminal: one table per crew, then the left-outs."""

from __future__ import annotations

from collections.abc import Mapping

from optimizer.data import ProblemData
from optimizer.dayfile import VisitDetails
from optimizer.explain import hhmm
from optimizer.result import Result, Route

HEADER = (
    f"{'#':>3} {'visit':<16} {'slot':<12} {'arrive':>6} {'start':>6} "
    f"{'kg':>7} {'m3':>6} {'cash':>8}"
)


def progress_bar(fraction: float, width: int = 30) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "[" + "#" * filled + "." * (width - filled) + f"] {fraction * 100:5.1f}%"


def route_table(route: Route, details: Mapping[str, VisitDetails], crew: str) -> list[str]:
    lines = [
        f"{route.vehicle_id} {crew}: leaves {hhmm(route.departure)}, "
        f"back {hhmm(route.return_time)}, {len(route.stops)} stops, {route.distance / 1000:.1f} km",
        HEADER,
    ]
    for position, stop in enumerate(route.stops, start=1):
        detail = details.get(stop.visit_id)
        lines.append(
            f"{position:>3} {stop.visit_id:<16} {(detail.slot if detail else ''):<12} "
            f"{hhmm(stop.arrival):>6} {hhmm(stop.start):>6} "
            f"{stop.weight_on_board / 1000:>7.0f} {stop.volume_on_board / 1_000_000:>6.2f} "
            f"{stop.cash_on_board / 100:>8.0f}"
        )
    return lines


def plan_text(
    data: ProblemData,
    result: Result,
    details: Mapping[str, VisitDetails],
    crews: Mapping[str, str],
) -> str:
    lines: list[str] = []
    for route in result.routes:
        lines += route_table(route, details, crews.get(route.vehicle_id, ""))
        lines.append("")
    if result.unassigned:
        lines.append(f"Unassigned ({len(result.unassigned)}):")
        lines += [f"  {u.visit_id:<16} {u.code.value:<20} {u.reason}" for u in result.unassigned]
        lines.append("")
    kpis = result.kpis
    lines.append(
        f"status {result.status.value}: {kpis.visits_routed}/{kpis.visits_total} visits routed "
        f"on {kpis.vehicles_used}/{len(data.vehicles)} crews, {kpis.distance_m / 1000:.1f} km, "
        f"{kpis.working_seconds / 3600:.1f} crew-hours, utilisation {kpis.utilisation:.0%}, "
        f"solved in {result.seconds:.1f} s"
    )
    lines += [f"  ! {reason}" for reason in result.reasons]
    return "\n".join(lines)

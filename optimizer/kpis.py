"""Plan KPIs a dispatcher compares across days: km, hours, utilisation, visits per crew."""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.data import ProblemData
from optimizer.result import Kpis, Route


def plan_kpis(data: ProblemData, routes: Sequence[Route], unassigned: int) -> Kpis:
    used = [route for route in routes if route.stops]
    available = 0
    for route in used:
        leave, back_by = data.vehicle_window(data.vehicles[data.vehicle_index(route.vehicle_id)])
        available += back_by - leave
    working = sum(route.duration for route in used)
    routed = sum(len(route.stops) for route in used)
    return Kpis(
        visits_total=routed + unassigned,
        visits_routed=routed,
        visits_unassigned=unassigned,
        vehicles_used=len(used),
        distance_m=sum(route.distance for route in used),
        working_seconds=working,
        utilisation=round(working / available, 4) if available else 0.0,
    )

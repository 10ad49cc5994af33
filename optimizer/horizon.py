"""The plan's own day out of a plan over several days.

When a visit may be made on a later day too, the planner routes the later days' crews as
well, so that it puts the visit where it costs least. Only the first day is work to hand
out: the later days are planned again each evening with what has changed by then.
"""

from __future__ import annotations

from dataclasses import replace

from optimizer.data import ProblemData
from optimizer.kpis import plan_kpis
from optimizer.result import ReasonCode, Result, Unassigned


def first_day(data: ProblemData, result: Result) -> Result:
    """`result` cut to day 0: visits routed later are unassigned with LATER_DAY; visits that
    could only be made later are left out altogether."""
    if all(vehicle.day == 0 for vehicle in data.vehicles):
        return result
    today, put_off = [], []
    for route in result.routes:
        vehicle = data.vehicles[data.vehicle_index(route.vehicle_id)]
        if vehicle.day == 0:
            today.append(route)
            continue
        for stop in route.stops:
            visit = data.visits[data.visit_index(stop.visit_id)]
            if visit.first_day == 0:
                reason = (
                    f"planned for day +{vehicle.day} on {route.vehicle_id}: it may wait until "
                    f"day +{visit.last_day}, and there it costs the least"
                )
                put_off.append(Unassigned(stop.visit_id, ReasonCode.LATER_DAY, reason))
    left_out = [
        u for u in result.unassigned if data.visits[data.visit_index(u.visit_id)].first_day == 0
    ]
    return replace(
        result,
        routes=tuple(today),
        unassigned=(*left_out, *put_off),
        kpis=plan_kpis(data, today, len(left_out)),
    )

"""The cash-heavy day of the scale benchmark: every delivery pays cash on delivery (twice the
normal day's share), and the city has bank branches where crews of two may deposit.

The same day is solved with the banks ("ours") and without them ("ours-no-banks"), at the
same seed and time limit, so what the deposits bought is the difference of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.data import ProblemData, VehicleKind
from optimizer.result import Result

Record = dict[str, Any]

CASH_HEAVY_SHARE = 1.0  # of deliveries; the normal day's is catalogue.CASH_SHARE, 0.5
NO_BANKS = "ours-no-banks"
# Three branches inside Chengdu's second ring road, 09:00-17:00, 15 minutes at the counter.
BANKS = (
    {"id": "BK-JJ", "name": "锦江支行", "lat": 30.6540, "lon": 104.0820},
    {"id": "BK-JN", "name": "金牛支行", "lat": 30.6950, "lon": 104.0520},
    {"id": "BK-WH", "name": "武侯支行", "lat": 30.6300, "lon": 104.0450},
)
BANK_HOURS = ["09:00", "17:00"]
BANK_SERVICE_MIN = 15


def with_banks(day: dict[str, Any]) -> dict[str, Any]:
    """The day file with the branches added."""
    banks = [{**bank, "hours": BANK_HOURS, "service_min": BANK_SERVICE_MIN} for bank in BANKS]
    return {**day, "banks": banks}


def deposit_figures(data: ProblemData, result: Result) -> Record:
    """Deposit stops in all and per truck on the road, how many trucks made 0, 1, 2...,
    and the cash collected on the day."""
    kinds = {vehicle.id: vehicle.kind for vehicle in data.vehicles}
    trucks = [route for route in result.routes if kinds[route.vehicle_id] is VehicleKind.TRUCK]
    counts = [len(route.deposits) for route in trucks]
    spread: dict[str, int] = {}
    for count in counts:
        spread[str(count)] = spread.get(str(count), 0) + 1
    cash = sum(
        data.visits[data.visit_index(stop.visit_id)].cash
        for route in result.routes
        for stop in route.stops
    )
    return {
        "deposits": sum(counts),
        "deposits_per_truck": round(sum(counts) / len(trucks), 3) if trucks else 0.0,
        "trucks_by_deposits": dict(sorted(spread.items())),
        "cash_collected_cny": cash // 100,
    }


def comparison(records: Sequence[Record]) -> str | None:
    """One line: what deposits bought against the same day without banks."""
    by = {record["solver"]: record for record in records}
    if not {"ours", NO_BANKS} <= set(by):
        return None
    ours, none = by["ours"], by[NO_BANKS]
    return (
        f"deposits vs no banks: served {ours['served'] - none['served']:+d}, "
        f"km {ours['km'] - none['km']:+,.1f}, {ours['deposits']} deposits "
        f"({ours['deposits_per_truck']:.2f} a truck on the road)"
    )

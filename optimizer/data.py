"""Frozen problem data in integer units: seconds, metres, grams, cubic centimetres, fen.

Integers because OR-Tools dimensions are integral and because the independent checker must
reach exactly the same verdict as the solver: no float rounding may separate the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from operator import attrgetter

import numpy as np
from numpy.typing import NDArray


class VisitKind(StrEnum):
    DELIVERY = "delivery"
    INSTALL = "install"
    REPAIR = "repair"


class VehicleKind(StrEnum):
    TRUCK = "truck"
    TECHNICIAN = "technician"


@dataclass(frozen=True, slots=True)
class Depot:
    id: str
    lat: float
    lon: float
    opens: int  # seconds after midnight
    closes: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    kind: VehicleKind
    start_depot: int  # index into ProblemData.depots
    end_depot: int
    shift_start: int
    shift_end: int
    weight_capacity: int  # grams
    volume_capacity: int  # cm3
    cash_cap: int  # fen
    skills: frozenset[str]
    visit_kinds: frozenset[VisitKind]
    crew_size: int
    name: str = ""
    # Day offset from the plan's date. A crew working several days is one vehicle per day,
    # with its shift in seconds of its own day: routes never span days, so nothing but
    # compatibility (vehicle_can_serve) has to know which day a vehicle works.
    day: int = 0


@dataclass(frozen=True, slots=True)
class Visit:
    id: str
    kind: VisitKind
    lat: float
    lon: float
    service_time: int  # seconds
    tw_start: int  # service must start within [tw_start, tw_end]
    tw_end: int
    weight: int  # grams
    volume: int  # cm3
    cash: int  # fen to collect
    skills: frozenset[str]
    priority: int  # 0 (lowest) .. 10 (highest)
    min_crew: int
    pinned_vehicle: int | None  # index into ProblemData.vehicles
    label: str = ""
    first_day: int = 0  # the day offsets (see Vehicle.day) on which the visit may be made
    last_day: int = 0


@dataclass(frozen=True, slots=True)
class Bank:
    """A bank branch where a crew may hand over its cash mid-route (delivery rules, art. 7).

    The deposit at the counter, start to departure, must fall within the branch's hours; a
    crew that arrives before the branch opens waits for it (Deposit.start after arrival).
    """

    id: str
    lat: float
    lon: float
    opens: int  # seconds after midnight
    closes: int
    service_time: int  # seconds at the counter
    name: str = ""


# A bank deposit needs two crew members (delivery rules, art. 7): the usual crew size.
DEPOSIT_MIN_CREW = 2


# A route inside the optimizer is a list of ints: a visit index (>= 0) or a deposit at bank b,
# written ~b (-b - 1), so one list carries the order of visits and deposits between the
# engine, the repair, build_route and the Result. Only OR-Tools and the repair plan
# deposits; the other engines see and return visits alone.
def deposit_at(bank_index: int) -> int:
    return ~bank_index


def is_deposit(item: int) -> bool:
    return item < 0


def bank_of(item: int) -> int:
    return ~item


def visits_of(route: Sequence[int]) -> list[int]:
    return [item for item in route if item >= 0]


# The loads a crew carries, each as what a visit adds to it and what a vehicle may hold:
# weight, volume and cash (cash only grows along a route between deposits, so its cap is a
# capacity for the engines that plan no deposits: their routes keep under it all day).
LOADS = (
    (attrgetter("weight"), attrgetter("weight_capacity")),
    (attrgetter("volume"), attrgetter("volume_capacity")),
    (attrgetter("cash"), attrgetter("cash_cap")),
)


@dataclass(frozen=True)
class ProblemData:
    """A planning day, or several when vehicles work different days (see Vehicle.day).

    Node order in the matrices: depots first, then visits, then banks.
    """

    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    visits: tuple[Visit, ...]
    skills: frozenset[str]
    distances: NDArray[np.int64] = field(repr=False)  # metres, node x node
    durations: NDArray[np.int64] = field(repr=False)  # seconds, node x node
    # Where crews may deposit cash; none means cash on board only grows along a route.
    banks: tuple[Bank, ...] = ()
    deposit_min_crew: int = DEPOSIT_MIN_CREW

    @property
    def num_nodes(self) -> int:
        return len(self.depots) + len(self.visits) + len(self.banks)

    def bank_node(self, bank_index: int) -> int:
        return len(self.depots) + len(self.visits) + bank_index

    def may_deposit(self, vehicle: Vehicle) -> bool:
        """Whether this crew may stop at a bank: there is one, and the crew is large enough."""
        return bool(self.banks) and vehicle.crew_size >= self.deposit_min_crew

    def depot_node(self, depot_index: int) -> int:
        return depot_index

    def visit_node(self, visit_index: int) -> int:
        return len(self.depots) + visit_index

    def route_nodes(self, vehicle_index: int, visits: Sequence[int]) -> list[int]:
        """The matrix nodes a vehicle passes: its start depot, the visits (and deposits, see
        deposit_at) in order, its end depot."""
        vehicle = self.vehicles[vehicle_index]
        return [
            self.depot_node(vehicle.start_depot),
            *(self.visit_node(v) if v >= 0 else self.bank_node(~v) for v in visits),
            self.depot_node(vehicle.end_depot),
        ]

    @cached_property
    def _visit_indices(self) -> dict[str, int]:
        return {visit.id: index for index, visit in enumerate(self.visits)}

    @cached_property
    def _vehicle_indices(self) -> dict[str, int]:
        return {vehicle.id: index for index, vehicle in enumerate(self.vehicles)}

    def visit_index(self, visit_id: str) -> int:
        return self._visit_indices[visit_id]

    def vehicle_index(self, vehicle_id: str) -> int:
        return self._vehicle_indices[vehicle_id]

    def vehicle_can_serve(self, vehicle: Vehicle, visit: Visit) -> bool:
        """Static compatibility: kind, skills, crew size, day, pin. Capacity and time are not."""
        return (
            visit.kind in vehicle.visit_kinds
            and visit.skills <= vehicle.skills
            and vehicle.crew_size >= visit.min_crew
            and visit.first_day <= vehicle.day <= visit.last_day
            and (visit.pinned_vehicle is None or self.vehicles[visit.pinned_vehicle] is vehicle)
        )

    def vehicle_window(self, vehicle: Vehicle) -> tuple[int, int]:
        """When the vehicle may leave its start depot and must be back at its end depot."""
        start_depot = self.depots[vehicle.start_depot]
        end_depot = self.depots[vehicle.end_depot]
        return (
            max(vehicle.shift_start, start_depot.opens),
            min(vehicle.shift_end, end_depot.closes),
        )

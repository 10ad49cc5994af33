"""What a solve returns: routes with a timed schedule, unassigned visits with reasons, KPIs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven, only for trivial days
    FEASIBLE = "feasible"  # a plan that passes the checker
    NO_SOLUTION = "no_solution"  # nothing could be planned; see Result.reasons
    INVALID = "invalid"  # the engine produced a plan the checker refused; see Result.reasons


class ReasonCode(StrEnum):
    MISSING_SKILL = "missing_skill"
    WRONG_VISIT_KIND = "wrong_visit_kind"
    CREW_TOO_SMALL = "crew_too_small"
    TOO_HEAVY = "too_heavy"
    TOO_BULKY = "too_bulky"
    TOO_MUCH_CASH = "too_much_cash"
    WINDOW_UNREACHABLE = "window_unreachable"
    PINNED_CREW_CANNOT = "pinned_crew_cannot"
    NO_ROOM = "no_room"
    NOT_PLANNED = "not_planned"  # the solver stopped before it reached this visit
    DISPATCHER = "dispatcher"  # a dispatcher took it off the routes by hand
    NO_CREW_THAT_DAY = "no_crew_that_day"  # no crew works any day the visit may be made on
    LATER_DAY = "later_day"  # routed on a later day of a several-day horizon: not today's work
    INVALID_ORDER = "invalid_order"  # its stored numbers cannot be planned (the service's check)


@dataclass(frozen=True, slots=True)
class Unassigned:
    visit_id: str
    code: ReasonCode
    reason: str  # one sentence a dispatcher understands


@dataclass(frozen=True, slots=True)
class Stop:
    visit_id: str
    arrival: int  # seconds after midnight
    start: int  # service start (arrival plus any wait for the window)
    departure: int
    weight_on_board: int  # grams, on arrival
    volume_on_board: int  # cm3, on arrival
    cash_on_board: int  # fen, after collecting here, collected since the last deposit
    distance_from_previous: int  # metres


@dataclass(frozen=True, slots=True)
class Deposit:
    """A stop at a bank between two visits, where the crew hands over all cash on board."""

    bank_id: str
    after: int  # how many of the route's stops come before it
    arrival: int  # seconds after midnight
    start: int  # at the counter (arrival plus any wait for the bank to open)
    departure: int
    amount: int  # fen handed over: the cash on board on arrival
    distance_from_previous: int  # metres


@dataclass(frozen=True, slots=True)
class Route:
    vehicle_id: str
    departure: int  # leaves the start depot
    return_time: int  # back at the end depot
    stops: tuple[Stop, ...]
    distance: int  # metres, depot to depot, by way of any bank
    deposits: tuple[Deposit, ...] = ()  # in route order; Stop.distance_from_previous and
    # the times of the stop after a deposit count from the bank

    @property
    def visit_ids(self) -> tuple[str, ...]:
        return tuple(stop.visit_id for stop in self.stops)

    @property
    def duration(self) -> int:
        return self.return_time - self.departure if self.stops else 0


@dataclass(frozen=True, slots=True)
class Kpis:
    visits_total: int
    visits_routed: int
    visits_unassigned: int
    vehicles_used: int
    distance_m: int
    working_seconds: int
    utilisation: float  # working time over available shift time of the vehicles used


@dataclass(frozen=True)
class Result:
    status: Status
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis
    objective: int
    seconds: float
    seed: int
    reasons: tuple[str, ...] = field(default=())  # why the status is what it is, when not feasible
    engine: str = ""  # which engine's search produced the plan, as it reported its end

    @property
    def ok(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    def route_of(self, vehicle_id: str) -> Route | None:
        return next((route for route in self.routes if route.vehicle_id == vehicle_id), None)


def result_to_dict(result: Result) -> dict[str, object]:
    """Plain JSON-ready structure of a result; enums become their values."""
    return {
        "status": result.status.value,
        "objective": result.objective,
        "seconds": result.seconds,
        "seed": result.seed,
        "reasons": list(result.reasons),
        "engine": result.engine,
        "kpis": asdict(result.kpis),
        "routes": [
            {
                **{k: v for k, v in asdict(route).items() if k != "stops"},
                "stops": [asdict(stop) for stop in route.stops],
            }
            for route in result.routes
        ],
        "unassigned": [
            {"visit_id": u.visit_id, "code": u.code.value, "reason": u.reason}
            for u in result.unassigned
        ],
    }

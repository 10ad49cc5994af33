"""Which date and slot can still be offered to an order, before it is booked.

A quick, conservative estimate, not a plan: first the crews working that day that could
serve the order at all (kind, skills, the order's size and cash against the vehicle's caps,
the address reachable from the depot and back within the shift in the slot), then what
those crews have left once the orders already booked are taken off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from api.areas.scope import check_scope, resolve_area, visible
from api.areas.service import serving_area
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.fleet.models import Depot, Vehicle
from api.fleet.service import known_skills
from api.orders.bounds import check_order_numbers
from api.orders.models import Order, Slot
from api.orders.service import earliest_bookable, latest_bookable, local_today
from api.plans.plannable import PLANNABLE, working_vehicles_on
from api.slots.models import Remaining, SlotOffer, SlotQuery
from optimizer.data import VisitKind
from optimizer.matrix import GreatCircleProvider
from optimizer.model import DEFAULT_VISIT_KINDS
from optimizer.settings import DispatchSettings, seconds_of_day

# Crew time each stop costs on top of its service minutes: the drive from the previous stop.
# A slot's stops are clustered by the planner, typically 5-8 km of city road apart, which is
# about 20 minutes at the 25 km/h urban average. The legs out of and back to the depot are
# left out: a route pays them once, not per stop, and the reach check bounds them.
TRAVEL_ALLOWANCE_MINUTES = 20
# Float tolerance, so an order that fills a vehicle exactly is still accepted.
EPSILON = 1e-6

Filter = tuple[str, Callable[[Vehicle], bool]]


@dataclass(frozen=True, slots=True)
class _Crew:
    vehicle: Vehicle
    leave: int  # seconds after midnight the crew may leave its depot
    back_by: int  # and must be back by
    out_s: int  # drive from the depot to the address
    back_s: int  # and back
    cash_cap_cny: float


@dataclass(frozen=True, slots=True)
class _Booked:
    """The orders booked for one date, slot and kind of visit, added up."""

    slot: Slot
    kind: VisitKind
    count: int
    service_minutes: int
    weight_kg: float
    volume_m3: float
    cash_cny: float


def offer_area(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    area: str | None,
    query: SlotQuery,
) -> str:
    """The area whose offers answer: named, else the key's or the chain's only one, else the
    one whose depot serves the address, as an order placed there would be."""
    several = area is None and len(principal.areas) != 1
    if several and len(visible(session=session, principal=principal)) > 1:
        area = serving_area(session=session, settings=settings, lat=query.lat, lon=query.lon)
        check_scope(principal, area)
    return resolve_area(session=session, principal=principal, area=area)


def check_query(*, settings: ServiceSettings, query: SlotQuery) -> None:
    """The question's own numbers first: a wrong weight is named before any area is sought."""
    check_order_numbers(
        settings=settings,
        items=(),
        cash_cny=query.cash_cny,
        service_minutes=query.service_minutes,
        totals=(query.weight_kg, query.volume_m3),
    )


def offer_slots(
    *,
    session: Session,
    settings: ServiceSettings,
    now: dt.datetime,
    query: SlotQuery,
    area: str,
) -> list[SlotOffer]:
    """Every slot of `query.days` dates from the earliest bookable one, offered or not.

    Only the area's crews offer, against only the area's orders, under its settings
    (`settings` are the area's) and on its wall clock: crews never cross areas.
    """
    check_query(settings=settings, query=query)
    skills = frozenset(known_skills(session=session, skills=query.skill_names()))
    today = local_today(settings, now)
    first = earliest_bookable(settings=settings, today=today)
    last = latest_bookable(settings=settings, today=today)  # nothing is booked past it
    dates = [first + dt.timedelta(days=n) for n in range(query.days)]
    dates = [date for date in dates if date <= last]
    if not dates:
        return []
    depots = {d.code: d for d in session.exec(select(Depot).where(Depot.area_code == area))}
    legs = _legs(settings, query, list(depots.values()))
    booked = _booked(session, area, dates[0], dates[-1])
    working = working_vehicles_on(session=session, dates=dates, area=area)
    filters = _filters(query, skills, settings)
    offers = []
    for date in dates:
        fitting, reason = _fitting(working[date], filters, date)
        crews = [_crew(v, depots[v.depot_code], legs[v.depot_code], settings) for v in fitting]
        for slot in Slot:
            offers.append(_offer(date, slot, crews, reason, booked.get(date, []), query, settings))
    return offers


def _filters(query: SlotQuery, skills: frozenset[str], settings: DispatchSettings) -> list[Filter]:
    """Static checks, in the order their failure is reported."""
    kind = query.service_type
    wanted = ", ".join(sorted(skills))
    return [
        (
            f"no working crew does {kind.value} visits",
            lambda v: kind in DEFAULT_VISIT_KINDS[v.kind],
        ),
        (
            f"no working crew for {kind.value} visits has the skills {wanted}",
            lambda v: skills <= set(v.skills),
        ),
        (
            f"{query.weight_kg:g} kg is more than any suitable crew's vehicle carries",
            lambda v: query.weight_kg <= v.weight_kg + EPSILON,
        ),
        (
            f"{query.volume_m3:g} m³ is more than any suitable crew's vehicle holds",
            lambda v: query.volume_m3 <= v.volume_m3 + EPSILON,
        ),
        (
            f"{query.cash_cny:g} CNY is more cash than any suitable crew may carry",
            lambda v: query.cash_cny <= _cash_cap(v, settings) + EPSILON,
        ),
    ]


def _fitting(
    vehicles: list[Vehicle], filters: Sequence[Filter], date: dt.date
) -> tuple[list[Vehicle], str | None]:
    """The vehicles passing every filter, or none and the first filter that left none."""
    if not vehicles:
        return [], f"no crew works on {date.isoformat()}"
    for reason, keep in filters:
        vehicles = [vehicle for vehicle in vehicles if keep(vehicle)]
        if not vehicles:
            return [], reason
    return vehicles, None


def _cash_cap(vehicle: Vehicle, settings: DispatchSettings) -> float:
    return vehicle.cash_cap_cny or float(settings.cash_cap_cny)


def _legs(
    settings: DispatchSettings, query: SlotQuery, depots: Sequence[Depot]
) -> dict[str, tuple[int, int]]:
    """Depot code -> seconds of driving out to the address and back."""
    if not depots:
        return {}
    # Great-circle even when planning uses OSRM: answering a booking must not wait on, or
    # fail with, a routing server; the estimate only needs to be roughly right.
    provider = GreatCircleProvider(
        detour_factor=settings.road_detour_factor, speed_kmh=settings.average_speed_kmh
    )
    points = [(query.lat, query.lon), *((depot.lat, depot.lon) for depot in depots)]
    durations = provider.matrix(np.array(points, dtype=np.float64)).durations
    return {
        depot.code: (int(durations[n, 0]), int(durations[0, n]))
        for n, depot in enumerate(depots, start=1)
    }


def _crew(
    vehicle: Vehicle, depot: Depot, legs: tuple[int, int], settings: DispatchSettings
) -> _Crew:
    # The same working window the optimizer uses: the shift, within the depot's hours.
    return _Crew(
        vehicle=vehicle,
        leave=max(seconds_of_day(vehicle.shift_start), seconds_of_day(depot.opens)),
        back_by=min(seconds_of_day(vehicle.shift_end), seconds_of_day(depot.closes)),
        out_s=legs[0],
        back_s=legs[1],
        cash_cap_cny=_cash_cap(vehicle, settings),
    )


def _booked(
    session: Session, area: str, first: dt.date, last: dt.date
) -> dict[dt.date, list[_Booked]]:
    # Summed by the database: a busy fortnight holds thousands of orders, and loading each
    # one as a row object made every slot question slower the more was booked.
    query = (
        select_columns(
            col(Order.date),
            col(Order.slot),
            col(Order.service_type),
            func.count(),
            func.sum(Order.service_minutes),
            func.sum(Order.weight_kg),
            func.sum(Order.volume_m3),
            func.sum(Order.cash_cny),
        )
        .where(col(Order.date) >= first, col(Order.date) <= last)
        .where(col(Order.status).in_(PLANNABLE), col(Order.area_code) == area)
        .group_by(col(Order.date), col(Order.slot), col(Order.service_type))
    )
    by_date: dict[dt.date, list[_Booked]] = {}
    for date, slot, kind, count, minutes, weight, volume, cash in session.execute(query):
        booked = _Booked(
            Slot(slot),
            VisitKind(kind),
            count,
            int(minutes),
            float(weight),
            float(volume),
            float(cash),
        )
        by_date.setdefault(date, []).append(booked)
    return by_date


def _offer(
    date: dt.date,
    slot: Slot,
    crews: Sequence[_Crew],
    reason: str | None,
    day_orders: Sequence[_Booked],
    query: SlotQuery,
    settings: DispatchSettings,
) -> SlotOffer:
    nothing = Remaining(minutes=0, weight_kg=0, volume_m3=0, cash_cny=0)
    if reason is not None:
        return SlotOffer(date=date, slot=slot, available=False, reason=reason, remaining=nothing)
    window = settings.slot_window(slot)
    reaching = [crew for crew in crews if _reaches(crew, window, query.service_minutes * 60)]
    if not reaching:
        reason = (
            f"no suitable crew can reach the address in the {slot.value} slot "
            "and be back at its depot within its shift"
        )
        return SlotOffer(date=date, slot=slot, available=False, reason=reason, remaining=nothing)
    remaining = _remaining(reaching, window, slot, day_orders)
    reason = _shortfall(remaining, query, slot)
    return SlotOffer(
        date=date, slot=slot, available=reason is None, reason=reason, remaining=remaining
    )


def _reaches(crew: _Crew, window: tuple[int, int], service_s: int) -> bool:
    """The crew could start the visit within the slot and still be back at the depot in time."""
    start = max(crew.leave + crew.out_s, window[0])
    return start <= window[1] and start + service_s + crew.back_s <= crew.back_by


def _remaining(
    crews: Sequence[_Crew], window: tuple[int, int], slot: Slot, day_orders: Sequence[_Booked]
) -> Remaining:
    """Crew time left in the slot; load and cash left over the whole day.

    Time is per slot, but load and cash are per day: a crew loads once and leaves the depot
    for the whole day (the optimizer plans one trip per vehicle), and cash on board adds up
    over both slots. Counting them per slot would offer the afternoon a truck already
    filled by the morning.
    """
    kinds: set[VisitKind] = set()
    for crew in crews:
        kinds |= DEFAULT_VISIT_KINDS[crew.vehicle.kind]
    # Only orders these crews could be given compete with this one for them.
    orders = [booked for booked in day_orders if booked.kind in kinds]
    in_slot = [booked for booked in orders if booked.slot == slot]
    shift_s = sum(
        max(0, min(window[1], crew.back_by) - max(window[0], crew.leave)) for crew in crews
    )
    minutes = shift_s // 60 - sum(
        b.service_minutes + b.count * TRAVEL_ALLOWANCE_MINUTES for b in in_slot
    )
    weight = sum(c.vehicle.weight_kg for c in crews) - sum(o.weight_kg for o in orders)
    volume = sum(c.vehicle.volume_m3 for c in crews) - sum(o.volume_m3 for o in orders)
    cash = sum(c.cash_cap_cny for c in crews) - sum(o.cash_cny for o in orders)
    return Remaining(
        minutes=max(0, minutes),
        weight_kg=round(max(0.0, weight), 3),
        volume_m3=round(max(0.0, volume), 3),
        cash_cny=round(max(0.0, cash), 2),
    )


def _shortfall(remaining: Remaining, query: SlotQuery, slot: Slot) -> str | None:
    """Why the order does not fit what is left, or None when every resource has room."""
    needs = (
        (
            "minutes of crew time",
            remaining.minutes,
            query.service_minutes + TRAVEL_ALLOWANCE_MINUTES,
        ),
        ("kg of load", remaining.weight_kg, query.weight_kg),
        ("m³ of load space", remaining.volume_m3, query.volume_m3),
        ("CNY of cash", remaining.cash_cny, query.cash_cny),
    )
    for what, left, need in needs:
        if left + EPSILON < need:
            return f"the {slot.value} slot is full: {left:g} {what} left, {need:g} needed"
    return None

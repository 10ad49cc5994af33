"""Orders from the order system: idempotent intake, the lead-time rule, cancel and reschedule."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import geopy.geocoders
from geopy.exc import GeopyError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.areas.scope import check_scope, local_settings
from api.areas.service import order_area
from api.auth.models import utcnow
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.errors import Conflict, NotFound, RuleBroken
from api.core.hashing import digest
from api.core.roads import check_on_the_roads
from api.fleet.service import known_skills
from api.orders.bounds import check_order_numbers
from api.orders.installs import check_install_types, overdue_installations
from api.orders.models import (
    Order,
    OrderCreate,
    OrderEvent,
    OrderEventPublic,
    OrderItem,
    OrderItemPublic,
    OrderPublic,
    OrderStatus,
    RescheduleRequest,
)
from optimizer.data import VisitKind
from optimizer.settings import DispatchSettings

# Once delivered or cancelled, an order's visit is over: nothing may move it again.
FINAL = (OrderStatus.DELIVERED, OrderStatus.CANCELLED)


def earliest_bookable(*, settings: DispatchSettings, today: dt.date) -> dt.date:
    return today + dt.timedelta(days=settings.booking_lead_days)


def check_lead_time(*, settings: DispatchSettings, today: dt.date, date: dt.date) -> None:
    earliest = earliest_bookable(settings=settings, today=today)
    if date < earliest:
        raise RuleBroken(
            f"deliveries are booked at least {settings.booking_lead_days} days ahead: "
            f"the earliest date is {earliest.isoformat()}",
            field="date",
            rule="booking_lead_days",
        )


def latest_bookable(*, settings: DispatchSettings, today: dt.date) -> dt.date:
    return today + dt.timedelta(days=settings.booking_horizon_days)


def check_horizon(
    *, settings: DispatchSettings, today: dt.date, date: dt.date, field: str = "date"
) -> None:
    """Nothing is booked or planned past the horizon: such a date is a typing error."""
    latest = latest_bookable(settings=settings, today=today)
    if date > latest:
        raise RuleBroken(
            f"{field}: visits are booked at most {settings.booking_horizon_days} days ahead: "
            f"the latest date is {latest.isoformat()}",
            field=field,
            rule="booking_horizon_days",
        )


def check_booking_date(*, settings: DispatchSettings, today: dt.date, date: dt.date) -> None:
    check_lead_time(settings=settings, today=today, date=date)
    check_horizon(settings=settings, today=today, date=date)


def payload_hash(order: OrderCreate) -> str:
    """SHA-256 of the canonical JSON, so a retry is recognised whatever its key order."""
    # Left out when not named, so an order stored before areas existed still matches a retry.
    return digest(order.model_dump(mode="json", exclude={"area"} if order.area is None else None))


def create_order(
    *,
    session: Session,
    settings: ServiceSettings,
    now: dt.datetime,
    order: OrderCreate,
    principal: Principal,
) -> tuple[OrderPublic, bool]:
    """The stored order and whether this call created it (False: a retry of the same payload).

    Dates are checked on the wall clock of the order's area, `now` being one instant.
    """
    digest = payload_hash(order)
    stored = _find(session, order.external_id)
    # A retry is answered before the rules: it may arrive after the lead time has passed.
    if stored is not None:
        check_scope(principal, stored.area_code)
        return _retry(session, stored, digest), False
    check_order_numbers(
        settings=settings,
        items=order.items,
        cash_cny=order.cash_cny,
        service_minutes=order.service_minutes,
    )
    lat, lon = _coordinates(order, settings)
    area = _area(session, settings, order, principal, lat=lat, lon=lon)
    settings = local_settings(session=session, settings=settings, area=area)
    today = local_today(settings, now)
    check_booking_date(settings=settings, today=today, date=order.date)
    check_on_the_roads(settings, lat=lat, lon=lon)
    skills = known_skills(session=session, skills=order.skills)
    check_install_types(session=session, settings=settings, items=order.items)
    row = Order.model_validate(
        order,
        update={
            "area_code": area,
            "lat": lat,
            "lon": lon,
            "skills": skills,
            "weight_kg": _total(order, "weight_kg"),
            "volume_m3": _total(order, "volume_m3"),
            "payload_hash": digest,
        },
    )
    try:
        _insert(session, row, order, by=principal.name, geocoded=order.lat is None)
    except IntegrityError:
        # Two deliveries of the same order raced; the loser answers as a retry would.
        session.rollback()
        stored = _find(session, order.external_id)
        if stored is None:
            raise
        return _retry(session, stored, digest), False
    return _public(session, row), True


def local_today(settings: ServiceSettings, now: dt.datetime) -> dt.date:
    """The date on the wall clock of the area whose settings these are."""
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def _area(
    session: Session,
    settings: ServiceSettings,
    order: OrderCreate,
    principal: Principal,
    *,
    lat: float,
    lon: float,
) -> str:
    """The order's area: named (in the key's scope), else the key's only area, else the one
    serving the address; a key may book only into its own areas."""
    if order.area is not None:
        check_scope(principal, order.area)
    named = order.area or (principal.areas[0] if len(principal.areas) == 1 else None)
    area = order_area(session=session, settings=settings, named=named, lat=lat, lon=lon)
    check_scope(principal, area)
    return area


def _insert(session: Session, row: Order, order: OrderCreate, *, by: str, geocoded: bool) -> None:
    """The order, its items and its "created" event in one commit: all of them or none."""
    session.add(row)
    session.flush()  # assigns row.id for the children
    assert row.id is not None
    for item in order.items:
        session.add(OrderItem.model_validate(item, update={"order_id": row.id}))
    detail = {"date": row.date.isoformat(), "slot": row.slot.value, "geocoded": geocoded}
    session.add(OrderEvent(order_id=row.id, kind="created", by=by, detail=detail))
    session.commit()


def _retry(session: Session, stored: Order, digest: str) -> OrderPublic:
    if stored.payload_hash != digest:
        raise Conflict(
            f"external_id {stored.external_id!r} is already used by an order with a different "
            "payload; send a new external_id, or cancel or reschedule the stored order",
            field="external_id",
        )
    return _public(session, stored)


def _total(order: OrderCreate, unit: str) -> float:
    # Safe from overflow: api.orders.bounds has checked every quantity and unit already.
    return round(math.fsum(item.quantity * getattr(item, unit) for item in order.items), 6)


def _coordinates(order: OrderCreate, settings: DispatchSettings) -> tuple[float, float]:
    if order.lat is not None and order.lon is not None:
        return order.lat, order.lon
    if not settings.geocoder:
        raise RuleBroken("coordinates are required when no geocoder is configured", field="lat")
    # An unknown geocoder name is a deployment error, so it is left to surface as a 500.
    geocoder = geopy.geocoders.get_geocoder_for_service(settings.geocoder)
    try:
        place = geocoder(user_agent=settings.geocoder_user_agent).geocode(order.address)
    except GeopyError as error:
        raise RuleBroken(
            f"the geocoder could not place the address ({error}); send lat and lon", field="lat"
        ) from None
    if place is None:
        raise RuleBroken(
            f"the geocoder found no match for {order.address!r}; send lat and lon", field="lat"
        )
    return float(place.latitude), float(place.longitude)


def _find(session: Session, external_id: str, *, lock: bool = False) -> Order | None:
    query = select(Order).where(Order.external_id == external_id)
    if lock:
        # Serialises concurrent cancels and reschedules on PostgreSQL; SQLite locks on write.
        query = query.with_for_update()
    return session.exec(query).first()


def _get(session: Session, external_id: str, *, principal: Principal, lock: bool = False) -> Order:
    """The order, if the key's scope holds its area (403 otherwise)."""
    order = _find(session, external_id, lock=lock)
    if order is None:
        raise NotFound(f"order external_id={external_id!r} not found")
    check_scope(principal, order.area_code)
    return order


def _public(session: Session, order: Order) -> OrderPublic:
    return _publics(session, [order])[0]


def _publics(session: Session, orders: Sequence[Order]) -> list[OrderPublic]:
    """Orders with their items, loaded in one query rather than one per order."""
    ids = [order.id for order in orders]
    items: dict[int, list[OrderItemPublic]] = {}
    if ids:
        query = (
            select(OrderItem).where(col(OrderItem.order_id).in_(ids)).order_by(col(OrderItem.id))
        )
        for item in session.exec(query):
            items.setdefault(item.order_id, []).append(OrderItemPublic(**item.model_dump()))
    return [
        OrderPublic(**order.model_dump(), items=items.get(order.id or 0, [])) for order in orders
    ]


def list_orders(
    *,
    session: Session,
    areas: Sequence[str],
    date: dt.date | None = None,
    status: OrderStatus | None = None,
) -> list[OrderPublic]:
    query = select(Order).where(col(Order.area_code).in_(areas))
    query = query.order_by(col(Order.date), col(Order.external_id))
    if date is not None:
        query = query.where(Order.date == date)
    if status is not None:
        query = query.where(Order.status == status)
    return _publics(session, list(session.exec(query)))


def list_overdue_installations(
    *,
    session: Session,
    settings: ServiceSettings,
    areas: Sequence[str],
    now: dt.datetime,
    date: dt.date | None = None,
) -> list[OrderPublic]:
    """Installations whose window closed before `date` (default: each area's today) unmade:
    each needs a new agreed date."""
    days = {area: date or _area_today(session, settings, area, now) for area in areas}
    if not days:
        return []
    # One query up to the latest of the areas' days, then each order against its own.
    late = overdue_installations(session=session, date=max(days.values()))
    return _publics(session, [order for order in late if _past(order, days)])


def _past(order: Order, days: dict[str, dt.date]) -> bool:
    """Past its window as of its own area's day (not of a key's other areas)."""
    day = days.get(order.area_code)
    return day is not None and order.latest_date is not None and order.latest_date < day


def _area_today(
    session: Session, settings: ServiceSettings, area: str, now: dt.datetime
) -> dt.date:
    return local_today(local_settings(session=session, settings=settings, area=area), now)


def get_order(*, session: Session, external_id: str, principal: Principal) -> OrderPublic:
    return _public(session, _get(session, external_id, principal=principal))


def order_history(
    *, session: Session, external_id: str, principal: Principal
) -> list[OrderEventPublic]:
    order = _get(session, external_id, principal=principal)
    query = select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(col(OrderEvent.id))
    return [OrderEventPublic(**event.model_dump()) for event in session.exec(query)]


def cancel_order(
    *, session: Session, external_id: str, reason: str, principal: Principal
) -> OrderPublic:
    """Cancel; cancelling a cancelled order changes nothing, so retries are safe."""
    order = _get(session, external_id, principal=principal, lock=True)
    by = principal.name
    if order.status == OrderStatus.CANCELLED:
        return _public(session, order)
    if order.status == OrderStatus.DELIVERED:
        raise Conflict(
            f"order {external_id!r} was delivered; it cannot be cancelled", field="status"
        )
    detail = {"reason": reason, "previous_status": order.status.value}
    _change(session, order, kind="cancelled", by=by, detail=detail, status=OrderStatus.CANCELLED)
    return _public(session, order)


def reschedule_order(
    *,
    session: Session,
    settings: ServiceSettings,
    now: dt.datetime,
    external_id: str,
    request: RescheduleRequest,
    principal: Principal,
) -> OrderPublic:
    """Move to another date and slot; the order goes back to booked, to be planned again.

    The lead time, horizon and today are the order's area's.
    """
    order = _get(session, external_id, principal=principal, lock=True)
    by = principal.name
    settings = local_settings(session=session, settings=settings, area=order.area_code)
    today = local_today(settings, now)
    if order.status in FINAL:
        raise Conflict(
            f"order {external_id!r} is {order.status.value}; it cannot be rescheduled",
            field="status",
        )
    unchanged = (order.date, order.slot, order.status)
    if unchanged == (request.date, request.slot, OrderStatus.BOOKED):
        return _public(session, order)  # a retry of a reschedule already applied
    if order.service_type == VisitKind.DELIVERY:
        check_lead_time(settings=settings, today=today, date=request.date)
    elif request.date <= today:
        # Technicians' days are planned the day before, so tomorrow is the earliest.
        raise RuleBroken(
            f"a visit is planned the day before: the earliest date is "
            f"{(today + dt.timedelta(days=1)).isoformat()}",
            field="date",
            rule="planned_day_before",
        )
    check_horizon(settings=settings, today=today, date=request.date)
    detail = {
        "from": {"date": order.date.isoformat(), "slot": order.slot.value},
        "to": {"date": request.date.isoformat(), "slot": request.slot.value},
        "reason": request.reason,
        "previous_status": order.status.value,
    }
    order.date, order.slot = request.date, request.slot
    if order.latest_date is not None:
        order.latest_date = request.date  # a date agreed with the customer: no choice left
    _change(session, order, kind="rescheduled", by=by, detail=detail, status=OrderStatus.BOOKED)
    return _public(session, order)


def _change(
    session: Session, order: Order, *, kind: str, by: str, detail: dict, status: OrderStatus
) -> None:
    """A status change and its history event, committed together."""
    assert order.id is not None
    order.status = status
    order.updated_at = utcnow()
    session.add(order)
    session.add(OrderEvent(order_id=order.id, kind=kind, by=by, detail=detail))
    session.commit()

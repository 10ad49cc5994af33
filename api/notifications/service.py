"""Generating the customers' messages from the published plan and the ledger, and sending them.

Every message is inserted with INSERT ... ON CONFLICT (dedup_key) DO NOTHING, so a job run
twice, a plan published again or two workers racing leave exactly one message per visit and
kind: the database decides, and the one already stored is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from api.areas.service import only_area
from api.auth.models import utcnow
from api.core.config import ServiceSettings
from api.core.errors import NotFound, RuleBroken
from api.fleet.service import crews_on
from api.notifications.models import (
    DeliverResult,
    GenerateResult,
    Message,
    MessageKind,
    MessageStatus,
)
from api.notifications.senders import Sender
from api.notifications.templates import DEFAULT_LANGUAGE, TEMPLATES, render, slot_name
from api.orders.models import Order
from api.orders.window import visit_window
from api.plans.models import Plan, PlanStatus, PlanStop
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries
from optimizer.data import VisitKind
from optimizer.explain import hhmm

MAX_ATTEMPTS = 5
ARRIVING_SOON_WITHIN = dt.timedelta(hours=2)
# The ledger events that show where a crew is; a stop with any of them needs no "arriving".
PROGRESS = (Kind.ARRIVED, Kind.DELIVERED)
DONE = (Kind.ARRIVED, Kind.DELIVERED, Kind.FAILED)

Visit = tuple[PlanStop, Order]


def dedup_key(kind: MessageKind, date: dt.date, external_id: str) -> str:
    return f"{kind.value}:{date.isoformat()}:{external_id}"


def area_plan(*, session: Session, date: dt.date, area: str) -> Plan | None:
    """The area's published plan of the date, if any."""
    query = select(Plan).where(
        Plan.date == date, Plan.status == PlanStatus.PUBLISHED, Plan.area_code == area
    )
    return session.exec(query).first()


def day_before(
    *,
    session: Session,
    settings: ServiceSettings,
    date: dt.date,
    area: str | None = None,
    language: str = "",
) -> GenerateResult:
    """One message per customer of the area's published plan of the date: slot, window,
    crew leader. `settings` are the area's (its slot hours); no area: the chain's only one.

    Installations get the installation reminder instead; it goes out as soon as the plan is
    published, which is by the 17:00 cut-off, before the customer's evening call.
    """
    area = area or only_area(session=session)
    plan = area_plan(session=session, date=date, area=area)
    if plan is None:
        raise NotFound(f"no plan is published for {date} in area {area} yet")
    crews = crews_on(session=session, date=date, areas=[area])
    result = GenerateResult()
    lang = _language(language)
    for stop, order in _visits(session, plan):
        crew = crews.get(stop.vehicle_code, [])
        # The first member assigned leads the crew, as on the loading sign-off.
        leader = crew[0] if crew else None
        start, end = visit_window(order, settings)
        kind = (
            MessageKind.INSTALL_REMINDER
            if order.service_type == VisitKind.INSTALL
            else MessageKind.DAY_BEFORE
        )
        text = render(
            kind,
            lang,
            customer=order.customer,
            order=order.external_id,
            date=date.isoformat(),
            slot=slot_name(order.slot, lang),
            window=f"{hhmm(start)}–{hhmm(end)}",
            leader=leader.name if leader else "-",
            leader_phone=leader.phone if leader else "-",
        )
        _add(session, _message(kind, date, order, lang, text), result)
    session.commit()
    return result


def due_notices(
    *,
    session: Session,
    settings: ServiceSettings,
    now: dt.datetime,
    area: str | None = None,
    language: str = "",
) -> GenerateResult:
    """The area's on-the-day messages as of now: arriving within two hours, and delays past
    a slot. `settings` are the area's: its day is the one on its wall clock."""
    area = area or only_area(session=session)
    zone = ZoneInfo(settings.timezone)
    local = _local(now, zone)
    date = local.date()
    result = GenerateResult()
    plan = area_plan(session=session, date=date, area=area)
    if plan is None:  # nothing is planned today, so nothing is due
        return result
    visits = _visits(session, plan)
    ledger = list(effective(entries(session, area=area, date=date, kinds=DONE)))
    lang = _language(language)
    for order, eta in _arriving_soon(visits, ledger, _seconds(local)):
        text = render(
            MessageKind.ARRIVING_SOON,
            lang,
            customer=order.customer,
            order=order.external_id,
            eta=hhmm(eta),
        )
        _add(session, _message(MessageKind.ARRIVING_SOON, date, order, lang, text), result)
    for order, eta in _late_visits(settings, visits, ledger, zone):
        start, end = visit_window(order, settings)
        text = render(
            MessageKind.DELAYED,
            lang,
            customer=order.customer,
            order=order.external_id,
            eta=hhmm(eta),
            window=f"{hhmm(start)}–{hhmm(end)}",
        )
        _add(session, _message(MessageKind.DELAYED, date, order, lang, text), result)
    session.commit()
    return result


def _arriving_soon(
    visits: Sequence[Visit], ledger: Sequence[LedgerEntry], now_s: int
) -> list[tuple[Order, int]]:
    """Visits planned to begin within the next two hours where the crew is not yet."""
    done = {row.order_id for row in ledger}
    horizon = now_s + ARRIVING_SOON_WITHIN.total_seconds()
    return [
        (order, stop.arrival)
        for stop, order in visits
        if now_s <= stop.arrival <= horizon and order.id not in done
    ]


def _late_visits(
    settings: ServiceSettings,
    visits: Sequence[Visit],
    ledger: Sequence[LedgerEntry],
    zone: ZoneInfo,
) -> list[tuple[Order, int]]:
    """Remaining visits whose arrival, shifted by their crew's current delay, misses the slot.

    A crew's delay is the time of its latest arrival or delivery against the plan's arrival
    or departure at that stop; every later stop is assumed to be pushed back by as much.
    """
    done = {row.order_id for row in ledger}
    by_order = {order.id: (stop, order) for stop, order in visits}
    delay: dict[str, tuple[int, int]] = {}  # crew -> (position of its last stop, seconds)
    for row in ledger:  # chain order: a crew's later event overwrites its earlier one
        if row.kind not in PROGRESS or row.order_id not in by_order or "at" not in row.payload:
            continue
        stop, _ = by_order[row.order_id]
        planned = stop.arrival if row.kind == Kind.ARRIVED else stop.departure
        actual = _seconds(dt.datetime.fromisoformat(row.payload["at"]).astimezone(zone))
        delay[stop.vehicle_code] = (stop.position, actual - planned)
    late: list[tuple[Order, int]] = []
    for stop, order in visits:
        position, seconds = delay.get(stop.vehicle_code, (0, 0))
        if order.id in done or stop.position <= position:
            continue
        eta = stop.arrival + seconds
        # Arriving early is no news to the customer: the crew waits for the slot to open.
        if eta > visit_window(order, settings)[1]:
            late.append((order, eta))
    return late


def deliver_pending(
    *, session: Session, sender: Sender, areas: Sequence[str] | None = None, limit: int = 100
) -> DeliverResult:
    """Send pending messages (of `areas` when given), oldest first; each is claimed before
    sending, so no worker sends one another worker already took, and a failure is retried
    up to MAX_ATTEMPTS."""
    query = select(Message.id).where(Message.status == MessageStatus.PENDING)
    if areas is not None:
        query = query.where(col(Message.area_code).in_(areas))
    ids = session.exec(query.order_by(col(Message.id)).limit(limit)).all()
    result = DeliverResult()
    for message_id in ids:
        message = _claim(session, message_id)
        if message is None:
            continue  # another worker claimed it first
        try:
            sender.send(message)
        except Exception as error:  # any failure of the external system is retried
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:500]
            exhausted = message.attempts >= MAX_ATTEMPTS
            message.status = MessageStatus.FAILED if exhausted else MessageStatus.PENDING
            result.failed += 1
        else:
            message.attempts += 1
            message.status = MessageStatus.SENT
            message.sent_at = utcnow()
            result.sent += 1
        session.add(message)
        session.commit()
    return result


def _claim(session: Session, message_id: int | None) -> Message | None:
    """Mark a pending message as being sent, committed before the sender is called."""
    claimed = session.execute(
        update(Message)
        .where(col(Message.id) == message_id, col(Message.status) == MessageStatus.PENDING)
        .values(status=MessageStatus.SENDING)
    )
    session.commit()
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return session.get(Message, message_id, populate_existing=True)


def list_messages(
    *,
    session: Session,
    areas: Sequence[str],
    date: dt.date | None = None,
    status: MessageStatus | None = None,
    kind: MessageKind | None = None,
) -> list[Message]:
    query = select(Message).where(col(Message.area_code).in_(areas))
    if date is not None:
        query = query.where(Message.date == date)
    if status is not None:
        query = query.where(Message.status == status)
    if kind is not None:
        query = query.where(Message.kind == kind)
    return list(session.exec(query.order_by(col(Message.id))))


def _visits(session: Session, plan: Plan) -> list[Visit]:
    rows = session.exec(
        select(PlanStop, Order)
        .join(Order, col(PlanStop.order_id) == col(Order.id))
        .where(PlanStop.plan_id == plan.id)
        .order_by(col(PlanStop.vehicle_code), col(PlanStop.position))
    ).all()
    return [(stop, order) for stop, order in rows]


def _message(kind: MessageKind, date: dt.date, order: Order, language: str, text: str) -> Message:
    return Message(
        dedup_key=dedup_key(kind, date, order.external_id),
        area_code=order.area_code,
        kind=kind,
        date=date,
        order_id=order.id,
        external_id=order.external_id,
        recipient=order.phone,
        language=language,
        text=text,
    )


def _add(session: Session, message: Message, result: GenerateResult) -> None:
    """Insert unless a message with the same dedup key exists; count which it was."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Message)
        .values(**message.model_dump(exclude={"id"}))
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(col(Message.id))  # rowcount is not reliable here on every driver
    )
    if session.execute(statement).first() is not None:
        result.created += 1
    else:
        result.existing += 1


def _language(language: str) -> str:
    # Orders carry no language of their own yet, so every customer gets the store's default
    # unless the caller asks for another one the templates know.
    return language if language in TEMPLATES[MessageKind.DAY_BEFORE] else DEFAULT_LANGUAGE


def _local(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Now in the store's day; a time without an offset is taken as the store's own."""
    try:
        return now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=zone)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range
        raise RuleBroken(f"now: {now.isoformat()} is out of range", field="now") from None


def _seconds(moment: dt.datetime) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second

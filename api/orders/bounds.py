"""How large an order's numbers may be: checked at intake, and again before planning.

The request models refuse NaN and infinity; the magnitudes are the settings' (a store may
sell heavier goods than another), so they are checked here, naming the field. Planning
checks the stored row again, because an old release or a hand edit may have left anything
in the database, and one such order must not stop the whole day.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from api.core.errors import RuleBroken
from api.orders.models import Order, OrderItemCreate
from optimizer.settings import DispatchSettings

RULE = "order_bounds"


def check_order_numbers(
    *,
    settings: DispatchSettings,
    items: Sequence[OrderItemCreate],
    cash_cny: float,
    service_minutes: int,
    totals: tuple[float, float] = (0.0, 0.0),
) -> None:
    """422 naming the first number of an incoming order past its bound.

    `totals` are the order's weight and volume when only those are known (a slot question).
    """
    if len(items) > settings.order_items_max:
        raise RuleBroken(
            f"items: at most {settings.order_items_max} items per order, got {len(items)}",
            field="items",
            rule=RULE,
        )
    weight, volume = total_bounds(settings)
    numbers = [
        *_incoming(settings, items, cash_cny, service_minutes),
        ("weight_kg", totals[0], weight),
        ("volume_m3", totals[1], volume),
    ]
    for field, value, bound in numbers:
        problem = _beyond(value, bound)
        if problem:
            raise RuleBroken(f"{field}: {problem}", field=field, rule=RULE)


def stored_order_problem(order: Order, settings: DispatchSettings) -> str | None:
    """Why a stored order's numbers cannot be planned ("field: rule"), or None when they can."""
    for field, value, bound in _stored(order, settings):
        problem = _beyond(value, bound)
        if problem:
            return f"{field}: {problem}"
    return None


def _incoming(
    settings: DispatchSettings,
    items: Sequence[OrderItemCreate],
    cash_cny: float,
    service_minutes: int,
) -> Iterator[tuple[str, float, float]]:
    yield "cash_cny", cash_cny, settings.order_cash_max_cny
    yield "service_minutes", service_minutes, settings.service_minutes_max
    for index, item in enumerate(items):
        yield f"items[{index}].quantity", item.quantity, settings.item_quantity_max
        yield f"items[{index}].weight_kg", item.weight_kg, settings.item_weight_max_kg
        yield f"items[{index}].volume_m3", item.volume_m3, settings.item_volume_max_m3


def total_bounds(settings: DispatchSettings) -> tuple[int, int]:
    """An order's largest weight and volume: every item at its largest."""
    most = settings.order_items_max * settings.item_quantity_max
    return most * settings.item_weight_max_kg, most * settings.item_volume_max_m3


def _stored(order: Order, settings: DispatchSettings) -> Iterator[tuple[str, float, float]]:
    weight, volume = total_bounds(settings)
    yield "lat", abs(order.lat), 90
    yield "lon", abs(order.lon), 180
    yield "cash_cny", order.cash_cny, settings.order_cash_max_cny
    yield "weight_kg", order.weight_kg, weight
    yield "volume_m3", order.volume_m3, volume
    yield "service_minutes", order.service_minutes, settings.service_minutes_max


def _beyond(value: float, bound: float) -> str | None:
    """What is wrong with `value` against [0, bound], or None; never echoes a huge number."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if value < 0:
        return "must not be negative"
    if value > bound:
        return f"must be at most {bound:,}"
    return None

"""The hours a visit is promised for: its slot, or the narrower time agreed for a repair.

One function, so that routing, the customer's messages, the driver's page, the dispatch
sheet and the on-time figures all hold a visit to the same promise.
"""

from __future__ import annotations

from api.orders.models import Order
from optimizer.settings import DispatchSettings, seconds_of_day


def visit_window(order: Order, settings: DispatchSettings) -> tuple[int, int]:
    """Seconds of the day: the slot's hours, or the time agreed with the customer."""
    start, end = settings.slot_window(order.slot)
    if order.window_from is not None:
        start = seconds_of_day(order.window_from)
    if order.window_to is not None:
        end = seconds_of_day(order.window_to)
    return start, end

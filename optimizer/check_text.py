"""The words of the independent checker's messages: clock times, spans, kg, m3 and CNY.

Integral and exact (Decimal), like the checks themselves, so a message never rounds a
breach away: 12:00:30 never reads as 12:00.
"""

from __future__ import annotations

from decimal import Decimal

from optimizer.data import ProblemData, Vehicle


def opening(data: ProblemData, vehicle: Vehicle) -> str:
    depot = data.depots[vehicle.start_depot]
    if depot.opens > vehicle.shift_start:
        return f"depot {depot.id} opens at {clock(depot.opens)}"
    return f"its shift starts at {clock(vehicle.shift_start)}"


def closing(data: ProblemData, vehicle: Vehicle) -> str:
    depot = data.depots[vehicle.end_depot]
    if depot.closes < vehicle.shift_end:
        return f"depot {depot.id} closes at {clock(depot.closes)}"
    return f"its shift ends at {clock(vehicle.shift_end)}"


def clock(seconds: int) -> str:
    """HH:MM; seconds only when present, so 12:00:30 never reads as on time against 12:00."""
    if seconds < 0:
        return f"-{clock(-seconds)}"
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    day, hour = divmod(hours, 24)
    text = f"{hour:02d}:{minute:02d}" + (f":{second:02d}" if second else "")
    return text + {0: "", 1: " next day"}.get(day, f" (+{day} days)")


def span(seconds: int) -> str:
    minutes, second = divmod(seconds, 60)
    return f"{minutes} min" + (f" {second} s" if second else "")


def kg(grams: int) -> str:
    return f"{Decimal(grams) / 1000:,f} kg"


def m3(cm3: int) -> str:
    return f"{Decimal(cm3) / 1_000_000:,f} m3"


def cny(fen: int) -> str:
    return f"¥{Decimal(fen) / 100:,.2f}"

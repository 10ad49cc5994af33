"""Reads a day file (fleet and orders as JSON) into a Model for one date.

The day file is the hand-off format of the CLI and the fixtures: human units (kg, m3, CNY,
"HH:MM"), slots by name. Every problem is reported with the object and the field. Banks
(optional) are where crews of two or more may deposit their cash during the day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from optimizer.data import ProblemData
from optimizer.matrix import MatrixProvider
from optimizer.model import Model
from optimizer.settings import DispatchSettings


@dataclass(frozen=True, slots=True)
class VisitDetails:
    customer: str
    phone: str
    address: str
    slot: str  # "morning", "afternoon" or "HH:MM-HH:MM" for a customer-chosen time
    items: tuple[str, ...]  # "qty × name"


@dataclass(frozen=True)
class Day:
    city: str
    date: date
    data: ProblemData
    details: Mapping[str, VisitDetails]
    crews: Mapping[str, tuple[Mapping[str, str], ...]]  # vehicle id -> crew members


def clock(text: str, what: str) -> int:
    """'HH:MM' as seconds after midnight."""
    try:
        hours, minutes = (int(part) for part in str(text).split(":"))
    except ValueError:
        raise ValueError(f"{what}: expected HH:MM, got {text!r}") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60) and (hours, minutes) != (24, 0):
        raise ValueError(f"{what}: expected HH:MM, got {text!r}")
    return hours * 3600 + minutes * 60


def _get(record: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in record or record[key] is None:
        raise ValueError(f"{what}: {key}: required")
    return record[key]


def read_day(path: str | Path) -> dict[str, Any]:
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a JSON object with depots, vehicles and visits")
    return content


def load_day(
    content: Mapping[str, Any],
    on: date,
    settings: DispatchSettings,
    provider: MatrixProvider | None = None,
) -> Day:
    """The visits of date `on` with the whole fleet, frozen into ProblemData.

    A vehicle's "day" and a visit's "days" ([first, last]) are offsets from `on`; both
    may be left out for a single day.
    """
    model = Model()
    model.add_skills(content.get("skills", ()))
    depots = {}
    for record in _get(content, "depots", "day"):
        what = f"depot {record.get('id')!r}"
        depots[record["id"]] = model.add_depot(
            _get(record, "id", what),
            lat=_get(record, "lat", what),
            lon=_get(record, "lon", what),
            opens=clock(record.get("opens", "00:00"), f"{what}: opens"),
            closes=clock(record.get("closes", "24:00"), f"{what}: closes"),
            name=record.get("name", ""),
        )
    for record in content.get("banks", ()):
        _add_bank(model, record)
    crews = {}
    for record in _get(content, "vehicles", "day"):
        _add_vehicle(model, record, depots, settings)
        crews[record["id"]] = tuple(record.get("crew", ()))
    details = {}
    for record in _get(content, "visits", "day"):
        if str(record.get("date")) == on.isoformat():
            details[record["id"]] = _add_visit(model, record, settings)
    return Day(
        city=content.get("city", ""),
        date=on,
        data=model.data(provider),
        details=details,
        crews=crews,
    )


def _add_bank(model: Model, record: Mapping[str, Any]) -> None:
    what = f"bank {record.get('id')!r}"
    hours = record.get("hours", ("09:00", "17:00"))
    if not isinstance(hours, list | tuple) or len(hours) != 2:
        raise ValueError(f'{what}: hours: expected ["HH:MM", "HH:MM"]')
    model.add_bank(
        _get(record, "id", what),
        lat=_get(record, "lat", what),
        lon=_get(record, "lon", what),
        hours=(clock(hours[0], f"{what}: hours"), clock(hours[1], f"{what}: hours")),
        service_s=int(record.get("service_min", 15) * 60),
        name=record.get("name", ""),
    )


def _add_vehicle(
    model: Model, record: Mapping[str, Any], depots: Mapping[str, int], settings: DispatchSettings
) -> None:
    what = f"vehicle {record.get('id')!r}"
    depot = _get(record, "depot", what)
    end_depot = record.get("end_depot", depot)
    for field, name in (("depot", depot), ("end_depot", end_depot)):
        if name not in depots:
            raise ValueError(f"{what}: {field}: no depot {name!r}")
    shift = _get(record, "shift", what)
    crew = record.get("crew") or [{}]
    model.add_vehicle(
        _get(record, "id", what),
        depot=depots[depot],
        end_depot=depots[end_depot],
        shift=(clock(shift[0], f"{what}: shift"), clock(shift[1], f"{what}: shift")),
        weight_kg=_get(record, "weight_kg", what),
        volume_m3=_get(record, "volume_m3", what),
        cash_cap_cny=record.get("cash_cap_cny", settings.cash_cap_cny),
        skills=record.get("skills", ()),
        kind=record.get("kind", "truck"),
        crew_size=len(crew),
        name=record.get("name", ""),
        day=record.get("day", 0),
    )


def _window(record: Mapping[str, Any], what: str, settings: DispatchSettings) -> tuple[str, tuple]:
    if "window" in record:
        if not isinstance(record["window"], list | tuple) or len(record["window"]) != 2:
            raise ValueError(f'{what}: window: expected ["HH:MM", "HH:MM"]')
        start, end = record["window"]
        return f"{start}-{end}", (clock(start, f"{what}: window"), clock(end, f"{what}: window"))
    slot = _get(record, "slot", what)
    try:
        return slot, settings.slot_window(slot)
    except ValueError as error:
        raise ValueError(f"{what}: {error}") from None


def _add_visit(model: Model, record: Mapping[str, Any], settings: DispatchSettings) -> VisitDetails:
    what = f"visit {record.get('id')!r}"
    items = record.get("items", ())
    slot, window = _window(record, what, settings)
    model.add_visit(
        _get(record, "id", what),
        lat=_get(record, "lat", what),
        lon=_get(record, "lon", what),
        window=window,
        service_s=int(record.get("service_min", 15) * 60),
        kind=record.get("kind", "delivery"),
        weight_kg=sum(item["qty"] * item["weight_kg"] for item in items),
        volume_m3=sum(item["qty"] * item["volume_m3"] for item in items),
        cash_cny=record.get("cash_cny", 0),
        skills=record.get("skills", ()),
        priority=record.get("priority", 1),
        min_crew=record.get("min_crew", 1),
        pinned_to=record.get("pinned_to"),
        label=record.get("customer", ""),
        days=record.get("days", (0, 0)),
    )
    return VisitDetails(
        customer=record.get("customer", ""),
        phone=record.get("phone", ""),
        address=record.get("address", ""),
        slot=slot,
        items=tuple(f"{item['qty']} × {item['name']}" for item in items),
    )

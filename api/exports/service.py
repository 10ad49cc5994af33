"""Paper for the depot: the dispatch sheet crews take along and the warehouse picking lists.

Both are read from the stored plan rows alone, so what is printed is what was planned.
CSV starts with a byte-order mark because Excel otherwise reads UTF-8 as the local code
page and garbles Chinese names; HTML escapes every value, since customers type their own.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.core.crud import get_or_404
from api.core.errors import NotFound
from api.core.spreadsheet import csv_bytes
from api.exports.deposit_lines import SheetDeposit, sheet_deposit
from api.fleet.models import Vehicle
from api.fleet.service import crews_on
from api.orders.models import Order, OrderItem, OrderStatus
from api.orders.window import visit_window
from api.plans.deposits import in_route_order, plan_deposits
from api.plans.models import Plan, PlanDeposit, PlanRoute, PlanStatus, PlanStop
from optimizer.explain import hhmm
from optimizer.settings import DispatchSettings


@dataclass(frozen=True)
class SheetStop:
    position: int
    arrival: str
    start: str  # later than the arrival when the crew waits for the slot
    slot: str
    order: str
    customer: str
    phone: str
    address: str
    items: str  # "2 × 三人沙发, 1 × 茶几"
    cash_cny: float  # to collect here


@dataclass(frozen=True)
class CrewSheet:
    vehicle_code: str
    vehicle_name: str  # plate or crew name
    crew: tuple[str, ...]  # "张伟 (driver, 13800000000)"
    departure: str
    return_time: str
    distance_km: float
    stops: tuple[SheetStop, ...]
    deposits: tuple[SheetDeposit, ...] = ()

    @property
    def cash_cny(self) -> float:
        return sum(stop.cash_cny for stop in self.stops)

    @property
    def lines(self) -> list[SheetStop | SheetDeposit]:
        """The stops and deposit stops in the order the crew makes them."""
        return in_route_order(self.stops, self.deposits)


@dataclass(frozen=True)
class DispatchSheet:
    plan_id: int
    date: dt.date
    status: str
    version: int
    crews: tuple[CrewSheet, ...]


@dataclass(frozen=True)
class PickLine:
    load: int  # loading sequence: 1 goes in first, to the front of the truck
    stop: int
    order: str
    sku: str
    name: str
    quantity: int
    weight_kg: float  # the whole line: quantity times the unit weight
    volume_m3: float


@dataclass(frozen=True)
class TruckLoad:
    vehicle_code: str
    vehicle_name: str
    lines: tuple[PickLine, ...]


@dataclass(frozen=True)
class PickingLists:
    plan_id: int
    date: dt.date
    trucks: tuple[TruckLoad, ...]


@dataclass(frozen=True)
class _Rows:
    plan: Plan
    routes: list[PlanRoute]
    stops: dict[str, list[PlanStop]]  # vehicle code -> stops in route order
    orders: dict[int, Order]
    items: dict[int, list[OrderItem]]  # order id -> its items
    vehicles: dict[str, Vehicle]
    deposits: dict[str, list[PlanDeposit]]  # vehicle code -> deposit stops in route order


def _rows(session: Session, plan_id: int) -> _Rows:
    plan = get_or_404(session, Plan, "plan", id=plan_id)
    routes = session.exec(
        select(PlanRoute).where(PlanRoute.plan_id == plan_id).order_by(PlanRoute.vehicle_code)
    ).all()
    stops: dict[str, list[PlanStop]] = {}
    query = select(PlanStop).where(PlanStop.plan_id == plan_id).order_by(col(PlanStop.position))
    for stop in session.exec(query):
        stops.setdefault(stop.vehicle_code, []).append(stop)
    ids = [stop.order_id for route_stops in stops.values() for stop in route_stops]
    orders = session.exec(select(Order).where(col(Order.id).in_(ids))).all() if ids else []
    items: dict[int, list[OrderItem]] = {}
    if ids:
        lines = (
            select(OrderItem).where(col(OrderItem.order_id).in_(ids)).order_by(col(OrderItem.id))
        )
        for item in session.exec(lines):
            items.setdefault(item.order_id, []).append(item)
    codes = [route.vehicle_code for route in routes]
    vehicles = session.exec(select(Vehicle).where(col(Vehicle.code).in_(codes))).all()
    return _Rows(
        plan=plan,
        routes=list(routes),
        stops=stops,
        orders={order.id: order for order in orders if order.id is not None},
        items=items,
        vehicles={vehicle.code: vehicle for vehicle in vehicles},
        deposits=plan_deposits(session=session, plan_id=plan_id),
    )


def published_plan_id(*, session: Session, date: dt.date, area: str) -> int:
    """The area's published plan of the date: each area publishes its own."""
    query = select(Plan.id).where(
        Plan.area_code == area, Plan.date == date, Plan.status == PlanStatus.PUBLISHED
    )
    plan_id = session.exec(query.order_by(col(Plan.id).desc())).first()
    if plan_id is None:
        raise NotFound(f"no plan is published for {date.isoformat()}")
    return plan_id


def dispatch_sheet(*, session: Session, settings: DispatchSettings, plan_id: int) -> DispatchSheet:
    rows = _rows(session, plan_id)
    crews = crews_on(session=session, date=rows.plan.date)
    sheets = []
    for route in rows.routes:
        vehicle = rows.vehicles.get(route.vehicle_code)
        members = crews.get(route.vehicle_code, [])
        sheets.append(
            CrewSheet(
                vehicle_code=route.vehicle_code,
                vehicle_name=vehicle.name if vehicle else "",
                crew=tuple(f"{m.name} ({m.role.value}, {m.phone})" for m in members),
                departure=hhmm(route.departure),
                return_time=hhmm(route.return_time),
                distance_km=round(route.distance_m / 1000, 1),
                stops=tuple(
                    _sheet_stop(stop, rows, settings)
                    for stop in rows.stops.get(route.vehicle_code, [])
                ),
                deposits=tuple(map(sheet_deposit, rows.deposits.get(route.vehicle_code, []))),
            )
        )
    plan = rows.plan
    return DispatchSheet(plan_id, plan.date, plan.status.value, plan.version, tuple(sheets))


def _sheet_stop(stop: PlanStop, rows: _Rows, settings: DispatchSettings) -> SheetStop:
    order = rows.orders[stop.order_id]
    opens, closes = visit_window(order, settings)
    items = rows.items.get(stop.order_id, [])
    return SheetStop(
        position=stop.position,
        arrival=hhmm(stop.arrival),
        start=hhmm(stop.start),
        slot=f"{order.slot.value} {hhmm(opens)}–{hhmm(closes)}",
        order=order.external_id,
        customer=order.customer,
        phone=order.phone,
        address=order.address,
        items=", ".join(f"{item.quantity} × {item.name}" for item in items),
        cash_cny=order.cash_cny,
    )


def picking_lists(*, session: Session, plan_id: int, vehicle: str | None = None) -> PickingLists:
    rows = _rows(session, plan_id)
    routes = [r for r in rows.routes if vehicle is None or r.vehicle_code == vehicle]
    if vehicle is not None and not routes:
        raise NotFound(f"vehicle {vehicle!r} has no route on plan {plan_id}")
    trucks = []
    for route in routes:
        lines: list[PickLine] = []
        # The last stop's goods go in first, so each stop's goods are at the door when due.
        for stop in reversed(rows.stops.get(route.vehicle_code, [])):
            order = rows.orders[stop.order_id]
            # An order delivered in part on an earlier day is planned again for the rest.
            again = order.date == rows.plan.date and order.status is not OrderStatus.DELIVERED
            for item in rows.items.get(stop.order_id, []):
                quantity = item.quantity - item.delivered if again else item.quantity
                if quantity <= 0:
                    continue
                lines.append(
                    PickLine(
                        load=len(lines) + 1,
                        stop=stop.position,
                        order=order.external_id,
                        sku=item.sku,
                        name=item.name,
                        quantity=quantity,
                        weight_kg=round(quantity * item.weight_kg, 3),
                        volume_m3=round(quantity * item.volume_m3, 4),
                    )
                )
        known = rows.vehicles.get(route.vehicle_code)
        name = known.name if known else ""
        trucks.append(TruckLoad(route.vehicle_code, name, tuple(lines)))
    return PickingLists(plan_id, rows.plan.date, tuple(trucks))


SHEET_HEAD = (
    "vehicle",
    "vehicle_name",
    "crew",
    "stop",
    "arrival",
    "start",
    "slot",
    "order",
    "customer",
    "phone",
    "address",
    "items",
    "cash_cny",
    "deposit_cny",
)
PICK_HEAD = (
    "vehicle",
    "load",
    "stop",
    "order",
    "sku",
    "name",
    "quantity",
    "weight_kg",
    "volume_m3",
)


def dispatch_sheet_csv(sheet: DispatchSheet) -> bytes:
    """One row per stop and per deposit stop, in route order, crews in vehicle order."""
    rows = [
        (crew.vehicle_code, crew.vehicle_name, "; ".join(crew.crew), *_sheet_cells(line))
        for crew in sheet.crews
        for line in crew.lines
    ]
    return csv_bytes((SHEET_HEAD, rows))


def _sheet_cells(line: SheetStop | SheetDeposit) -> tuple[object, ...]:
    if isinstance(line, SheetDeposit):
        return line.csv_cells()
    return (*_stop_cells(line), f"{line.cash_cny:.2f}", "")


def _stop_cells(s: SheetStop) -> tuple[object, ...]:
    """A stop's cells on the sheet, from its number to its items."""
    return (
        s.position,
        s.arrival,
        s.start,
        s.slot,
        s.order,
        s.customer,
        s.phone,
        s.address,
        s.items,
    )


def picking_lists_csv(lists: PickingLists) -> bytes:
    """Item rows in loading order, then a total row per truck (its name column says total)."""
    rows: list[tuple[object, ...]] = []
    for truck in lists.trucks:
        rows += [(truck.vehicle_code, *_pick_cells(line)) for line in truck.lines]
        rows.append((truck.vehicle_code, "", "", "", "", "total", *_pick_totals(truck.lines)))
    return csv_bytes((PICK_HEAD, rows))


def _pick_cells(line: PickLine) -> tuple[object, ...]:
    return (
        line.load,
        line.stop,
        line.order,
        line.sku,
        line.name,
        line.quantity,
        f"{line.weight_kg:.2f}",
        f"{line.volume_m3:.3f}",
    )


def _pick_totals(lines: Sequence[PickLine]) -> tuple[object, ...]:
    return (
        sum(line.quantity for line in lines),
        f"{sum(line.weight_kg for line in lines):.2f}",
        f"{sum(line.volume_m3 for line in lines):.3f}",
    )


def dispatch_sheet_html(sheet: DispatchSheet) -> str:
    title = f"Dispatch sheet {sheet.date.isoformat()} · plan {sheet.plan_id} v{sheet.version}"
    sections = []
    for crew in sheet.crews:
        rows = [_sheet_html_cells(line) for line in crew.lines]
        head = ("#", "arrive", "start", "slot", "order", "customer", "phone", "address", "items")
        foot = (f"{len(crew.stops)} stops", *[""] * 8, f"¥{crew.cash_cny:,.2f}")
        sections.append(
            f"<section><h2>{_e(crew.vehicle_code)} · {_e(crew.vehicle_name)}</h2>"
            f"<p>Crew: {_e(', '.join(crew.crew) or '—')}<br>Leaves {crew.departure}, back "
            f"{crew.return_time}, {crew.distance_km:.1f} km</p>"
            f"{_table((*head, 'cash'), rows, foot, numeric={0, 9})}</section>"
        )
    stops = sum(len(crew.stops) for crew in sheet.crews)
    cash = sum(crew.cash_cny for crew in sheet.crews)
    summary = (
        f"<p class=total>{len(sheet.crews)} crews, {stops} stops, ¥{cash:,.2f} to collect "
        f"(plan {sheet.status})</p>"
    )
    return _page(title, "".join(sections) + summary)


def _sheet_html_cells(line: SheetStop | SheetDeposit) -> tuple[object, ...]:
    if isinstance(line, SheetDeposit):
        return line.html_cells()
    return (*_stop_cells(line), f"¥{line.cash_cny:,.2f}")


def picking_lists_html(lists: PickingLists) -> str:
    title = f"Picking lists {lists.date.isoformat()} · plan {lists.plan_id}"
    sections = []
    for truck in lists.trucks:
        head = ("load", "stop", "order", "sku", "name", "qty", "kg", "m³")
        rows = [_pick_cells(line) for line in truck.lines]
        foot = ("total", "", "", "", "", *_pick_totals(truck.lines))
        sections.append(
            f"<section><h2>{_e(truck.vehicle_code)} · {_e(truck.vehicle_name)}</h2>"
            "<p>Load from the top: the last stop's goods go in first.</p>"
            f"{_table(head, rows, foot, numeric={0, 1, 5, 6, 7})}</section>"
        )
    return _page(title, "".join(sections) or "<p>Nothing to load.</p>")


STYLE = """
body { font: 12px/1.4 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 16px; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin: 18px 0 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #888; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; } td.n { text-align: right; white-space: nowrap; }
tfoot td { font-weight: bold; } .total { font-weight: bold; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { margin: 0; } section { break-after: page; } th { background: none; }
  tr { break-inside: avoid; }
}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{_e(title)}</h1>{body}</body></html>"
    )


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[object]],
    foot: Sequence[object],
    *,
    numeric: set[int],
) -> str:
    def cells(values: Sequence[object], tag: str) -> str:
        return "".join(
            f"<{tag}{' class=n' if i in numeric else ''}>{_e(str(v))}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    return (
        f"<table><thead><tr>{cells(head, 'th')}</tr></thead><tbody>{body}</tbody>"
        f"<tfoot><tr>{cells(foot, 'td')}</tr></tfoot></table>"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)

"""What the driver's phone page shows: the crew's stops with their handover state, cash on
board, and the crew's own route map; and the page's words in Chinese and English."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select

from api.areas.scope import visible
from api.auth.models import Role
from api.auth.service import Principal
from api.cash.ledger import amount_fen
from api.cash.service import on_board
from api.core.config import ServiceSettings
from api.core.errors import NotFound
from api.drivers.models import DriverDepositPublic, DriverRoutePublic, DriverStopPublic
from api.drivers.service import crew_route
from api.handover.models import FailOutcome, FailReason
from api.orders.models import Order, OrderItem
from api.pages.access import PageForbidden
from api.plans.deposits import in_route_order
from api.plans.models import Plan, PlanRoute, PlanStatus
from api.records.kinds import Kind
from api.records.models import LedgerEntry
from api.records.service import effective, entries

# The meter turns amber from here: time to plan a bank stop before the cap refuses cash.
HIGH_SHARE = 0.8
# Roles the handover routes accept as writers; a dispatcher watches the page read-only.
ACTING_ROLES = frozenset({Role.DRIVER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One SKU of a stop: what is owed today and, once counted, what was handed over."""

    sku: str
    name: str
    quantity: int
    delivered: int | None = None


@dataclass(frozen=True, slots=True)
class StopView:
    stop: DriverStopPublic
    items: tuple[ItemLine, ...]
    state: str  # planned, arrived, delivered, failed, signed
    complete: bool  # delivered in full (meaningful once delivered)
    collected_cny: float
    failure: Mapping[str, Any] = field(default_factory=dict)

    @property
    def remaining_cny(self) -> float:
        return max(round(self.stop.cash_to_collect_cny - self.collected_cny, 2), 0.0)

    @property
    def signed_counts(self) -> list[dict[str, Any]]:
        """What the customer signs for: the counts delivered, as the server will check."""
        return [{"sku": i.sku, "quantity": i.delivered} for i in self.items if i.delivered]

    @property
    def amap_url(self) -> str:
        name = quote(self.stop.customer, safe="")
        return (
            f"https://uri.amap.com/navigation?to={self.stop.lon},{self.stop.lat},{name}"
            "&mode=car&callnative=1"
        )

    @property
    def geo_url(self) -> str:
        return f"geo:{self.stop.lat},{self.stop.lon}"


@dataclass(frozen=True, slots=True)
class CashBar:
    on_board_cny: float
    cap_cny: float
    room_cny: float

    @property
    def percent(self) -> int:
        if self.cap_cny <= 0:
            return 100
        return min(round(100 * self.on_board_cny / self.cap_cny), 100)

    @property
    def level(self) -> str:
        """The meter's CSS class in app.css: none, high or full."""
        if self.on_board_cny >= self.cap_cny:
            return "full"
        return "high" if self.on_board_cny >= HIGH_SHARE * self.cap_cny else ""


@dataclass(frozen=True, slots=True)
class DriverView:
    date: dt.date
    vehicle_code: str | None
    can_act: bool
    route: DriverRoutePublic | None = None
    departed: bool = False
    stops: tuple[StopView, ...] = ()
    cash: CashBar | None = None
    missing: str = ""  # why there is no route to show
    crews: tuple[str, ...] = ()  # for a dispatcher who has not picked one yet

    @property
    def lines(self) -> list[StopView | DriverDepositPublic]:
        """The stops with the bank stops in place, as the crew makes them."""
        deposits = self.route.deposits if self.route else []
        return in_route_order(self.stops, deposits)


def requested_crew(*, principal: Principal, vehicle: str | None) -> str | None:
    """The crew a page shows: a driver's own, whatever they ask; others pick with ?vehicle=."""
    if principal.role is not Role.DRIVER:
        return vehicle or None
    if principal.vehicle_code is None or vehicle not in (None, "", principal.vehicle_code):
        raise PageForbidden(f"a driver sees only their own crew, not {vehicle}", principal)
    return principal.vehicle_code


def driver_view(
    *,
    session: Session,
    settings: ServiceSettings,
    principal: Principal,
    date: dt.date,
    vehicle_code: str | None,
    area: str | None,
) -> DriverView:
    """The crew's day in its `area` (None: no such vehicle); without a crew, the crews of
    the areas the key sees that have a published plan, to pick from."""
    can_act = principal.role in ACTING_ROLES
    if vehicle_code is None:
        crews = _crews(session, date, visible(session=session, principal=principal))
        return DriverView(date=date, vehicle_code=None, can_act=False, crews=crews)
    if area is None:
        missing = f"vehicle code={vehicle_code!r} not found"
        return DriverView(date=date, vehicle_code=vehicle_code, can_act=False, missing=missing)
    cash = _cash(
        session=session, settings=settings, area=area, date=date, vehicle_code=vehicle_code
    )
    try:
        route = crew_route(
            session=session, settings=settings, date=date, vehicle_code=vehicle_code, area=area
        )
    except NotFound as missing:
        return DriverView(
            date=date, vehicle_code=vehicle_code, can_act=False, cash=cash, missing=missing.message
        )
    rows = list(effective(entries(session, area=area, date=date, vehicle_code=vehicle_code)))
    return DriverView(
        date=date,
        vehicle_code=vehicle_code,
        can_act=can_act,
        route=route,
        departed=any(row.kind == Kind.DEPARTED for row in rows),
        stops=_stops(session, route.stops, rows),
        cash=cash,
    )


def page_context(view: DriverView) -> dict[str, Any]:
    """What driver.html needs besides the words: the view, choices and a money format."""
    return {
        "view": view,
        "reasons": [reason.value for reason in FailReason],
        "outcomes": [outcome.value for outcome in FailOutcome],
        "tomorrow": (view.date + dt.timedelta(days=1)).isoformat(),
        "money": money,
    }


def money(amount_cny: float) -> str:
    """¥1,234.50: the same format driver.js writes when the cash bar updates."""
    return f"¥{amount_cny:,.2f}"


def _crews(session: Session, date: dt.date, areas: Sequence[str]) -> tuple[str, ...]:
    """The crews on the areas' published plans of the date."""
    codes = session.exec(
        select(PlanRoute.vehicle_code)
        .join(Plan, col(Plan.id) == col(PlanRoute.plan_id))
        .where(
            col(Plan.area_code).in_(areas),
            Plan.date == date,
            Plan.status == PlanStatus.PUBLISHED,
        )
        .order_by(col(PlanRoute.vehicle_code))
    )
    return tuple(codes)


def _cash(
    *, session: Session, settings: ServiceSettings, area: str, date: dt.date, vehicle_code: str
) -> CashBar | None:
    try:
        cash = on_board(
            session=session, settings=settings, area=area, date=date, vehicle_code=vehicle_code
        )
    except NotFound:
        return None  # no such vehicle: the page says so where the route would be
    return CashBar(cash.cash_on_board_cny, cash.cap_cny, cash.room_cny)


def _stops(
    session: Session, stops: Sequence[DriverStopPublic], rows: Sequence[LedgerEntry]
) -> tuple[StopView, ...]:
    """Every stop's state from one read of the crew's ledger and one of the order items."""
    wanted = [stop.external_id for stop in stops]
    ids: dict[str, int] = {
        external_id: order_id or 0
        for order_id, external_id in session.exec(
            select(Order.id, Order.external_id).where(col(Order.external_id).in_(wanted))
        )
    }
    owed = _owed(session, ids.values())
    by_order: dict[int | None, list[LedgerEntry]] = {}
    for row in rows:
        by_order.setdefault(row.order_id, []).append(row)
    return tuple(
        _stop_view(
            stop, owed.get(ids[stop.external_id], ()), by_order.get(ids[stop.external_id], [])
        )
        for stop in stops
    )


def _owed(session: Session, order_ids: Iterable[int]) -> dict[int, tuple[ItemLine, ...]]:
    """Per order, each SKU still to hand over (earlier visits may have brought some)."""
    lines: dict[int, dict[str, ItemLine]] = {}
    items = session.exec(
        select(OrderItem)
        .where(col(OrderItem.order_id).in_(list(order_ids)))
        .order_by(col(OrderItem.id))
    )
    for item in items:
        skus = lines.setdefault(item.order_id, {})
        left = item.quantity - item.delivered
        if item.sku in skus:  # the same SKU on two lines is counted as one, as the server does
            known = skus[item.sku]
            skus[item.sku] = ItemLine(item.sku, known.name, known.quantity + left)
        else:
            skus[item.sku] = ItemLine(item.sku, item.name, left)
    return {order_id: tuple(skus.values()) for order_id, skus in lines.items()}


def _stop_view(
    stop: DriverStopPublic, owed: Sequence[ItemLine], rows: Sequence[LedgerEntry]
) -> StopView:
    last = {row.kind: row for row in rows}
    collected = sum(amount_fen(r) for r in rows if r.kind == Kind.COLLECTED)
    delivered, failed = last.get(Kind.DELIVERED), last.get(Kind.FAILED)
    items = tuple(line for line in owed if line.quantity > 0)
    if delivered is not None:
        items = _counted(owed, delivered.payload.get("counts", []))
    if Kind.SIGNED_OFF in last:
        state = "signed"
    elif failed is not None:
        state = "failed"
    elif delivered is not None:
        state = "delivered"
    else:
        state = "arrived" if Kind.ARRIVED in last else "planned"
    return StopView(
        stop=stop,
        items=items,
        state=state,
        complete=bool(delivered is not None and delivered.payload.get("complete")),
        collected_cny=round(collected / 100, 2),
        failure=failed.payload if failed is not None else {},
    )


def _counted(owed: Sequence[ItemLine], counts: Sequence[Mapping[str, Any]]) -> tuple[ItemLine, ...]:
    """After the delivery the record says what was ordered and handed over, per SKU."""
    names = {line.sku: line.name for line in owed}
    return tuple(
        ItemLine(c["sku"], names.get(c["sku"], c["sku"]), int(c["ordered"]), int(c["quantity"]))
        for c in counts
    )


# key: (中文, English). Chinese first: the crews read Chinese; English is the switch.
_WORDS: dict[str, tuple[str, str]] = {
    "my_route": ("我的路线", "My route"),
    "cash_on_board": ("车上现金", "Cash on board"),
    "room": ("还可收现金", "Room for cash"),
    "cap_reached": ("已达上限：请先去银行存款", "At the cap: deposit at a bank first"),
    "crew": ("人员", "Crew"),
    "departure": ("出发", "Leaves"),
    "return_time": ("返回", "Back"),
    "plan_version": ("方案版本", "Plan version"),
    "depart": ("确认出发", "Depart now"),
    "departed": ("已出发", "On the road"),
    "not_departed": ("尚未出发", "Not yet departed"),
    "arrival": ("预计到达", "Arrives"),
    "deposit": ("存款", "Bank deposit"),
    "deposit_about": ("约", "about"),
    "deposit_hint": ("两人同去，存入车上全部现金", "Two of the crew bank all the cash on board"),
    "slot_morning": ("上午", "Morning"),
    "slot_afternoon": ("下午", "Afternoon"),
    "kind_delivery": ("送货", "Delivery"),
    "kind_install": ("安装", "Install"),
    "kind_repair": ("维修", "Repair"),
    "amap": ("高德导航", "Amap"),
    "geo": ("其他地图", "Map app"),
    "to_collect": ("应收", "To collect"),
    "collected": ("已收", "Collected"),
    "state_planned": ("待送", "Planned"),
    "state_arrived": ("已到达", "Arrived"),
    "state_delivered": ("已送达", "Delivered"),
    "state_partial": ("部分送达", "Partly delivered"),
    "state_failed": ("未送达", "Failed"),
    "state_signed": ("已签收", "Signed"),
    "arrive": ("我已到达", "I have arrived"),
    "deliver": ("确认交付数量", "Record delivery"),
    "count_hint": ("实际交付数量", "Quantity handed over"),
    "fail_open": ("无法送达？", "Cannot deliver?"),
    "fail": ("记录未送达", "Record failure"),
    "reason": ("原因", "Reason"),
    "reason_customer_absent": ("客户不在或联系不上", "Customer absent or unreachable"),
    "reason_refused": ("客户拒收", "Refused"),
    "reason_damaged_in_transit": ("运输中损坏", "Damaged in transit"),
    "reason_wrong_item": ("货品不符", "Wrong item"),
    "reason_address_problem": ("地址有误", "Address problem"),
    "outcome": ("货物处理", "Goods"),
    "outcome_back_to_warehouse": ("带回仓库", "Back to the warehouse"),
    "outcome_left_in_storage": ("存放在指定地点", "Left in storage"),
    "outcome_rescheduled": ("与客户改约", "Rescheduled with the customer"),
    "storage_place": ("存放地点", "Storage place"),
    "reschedule_date": ("改约日期", "New date"),
    "replanned_for": ("重新安排于", "Planned again for"),
    "note": ("备注", "Note"),
    "collect": ("确认收款", "Record payment"),
    "amount": ("金额（元）", "Amount (CNY)"),
    "method": ("方式", "Method"),
    "method_cash": ("现金", "Cash"),
    "method_transfer": ("转账（微信/支付宝/银行）", "Transfer (WeChat, Alipay, bank)"),
    "still_due": ("尚未收齐", "Still due"),
    "signoff": ("客户签收", "Customer sign-off"),
    "signoff_hint": ("请客户核对数量和金额后签名", "Customer checks counts and amount, then signs"),
    "signer_name": ("签收人", "Signed by"),
    "sign_here": ("请在框内签名", "Sign in the box"),
    "clear_pad": ("重写", "Clear"),
    "read_only": ("调度查看：仅供浏览", "Dispatcher view: read only"),
    "no_route": ("没有可显示的路线", "No route to show"),
    "choose_crew": ("选择车辆", "Choose a crew"),
    "no_crews": ("该日期没有已发布的方案", "No plan is published for this date"),
    "show": ("查看", "Show"),
    "map": ("路线地图", "Route map"),
    "no_gps": (
        "无法获取定位：请打开手机定位并允许本页面使用，然后重试",
        "No GPS position: turn location on and allow this page to use it, then retry",
    ),
    "signature_empty": ("请客户先在框内签名", "The customer has not signed yet"),
    "signer_needed": ("请填写签收人姓名", "Enter the signer's name"),
    "amount_invalid": ("金额须大于0，最多两位小数", "Amount above 0, two decimals at most"),
    "count_invalid": ("数量无效", "invalid quantity"),
    "place_needed": ("请填写存放地点", "Name the storage place"),
    "date_needed": ("请选择改约日期", "Pick the new date"),
    "saved": ("已记录", "Recorded"),
}
WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {key: zh for key, (zh, _) in _WORDS.items()},
    "en": {key: en for key, (_, en) in _WORDS.items()},
}

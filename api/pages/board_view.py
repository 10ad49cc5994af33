"""What the dispatcher's board shows for a date: its plan, crews, timeline and loose ends.

Everything is read in a handful of batched queries (the plan's rows, its orders, the
vehicles), so a day of a few hundred stops renders well within a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.core.errors import NotFound
from api.fleet.models import Vehicle
from api.pages.timeline import TimedRoute, TimedStop, Timeline, day_hours, timeline
from api.plans import service
from api.plans.cutoff import area_cutoff, minutes_late
from api.plans.deposits import in_route_order
from api.plans.drafts import Stored, load
from api.plans.models import Plan, PlanDeposit, PlanStatus, PlanStop, PlanSummary
from api.plans.plannable import working_vehicles
from optimizer.explain import hhmm
from optimizer.settings import seconds_of_day

SLOTS = ("morning", "afternoon")

WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "board": "调度看板",
        "plan": "计划",
        "version": "版本",
        "status_draft": "草稿",
        "status_published": "已发布",
        "status_superseded": "已被取代",
        "published_late": "发布时间晚于截止时间（前一天 {cutoff}）{minutes} 分钟："
        "请通知仓库，安装提醒也已延迟发出",
        "other_plans": "该日的计划",
        "kpi_visits": "已排 / 总数",
        "kpi_km": "总里程 (km)",
        "kpi_crews": "使用车组",
        "start_plan": "开始规划",
        "rerun_plan": "重新规划",
        "plan_seconds": "计算时长（秒）",
        "cancel": "取消",
        "publish": "发布",
        "publish_confirm": "发布后司机即可看到线路，确定发布？",
        "map": "线路地图",
        "timeline": "时间线",
        "travel": "行驶",
        "wait": "等待",
        "service": "服务",
        "deposit": "存款",
        "back_to_depot": "返回仓库",
        "morning": "上午",
        "afternoon": "下午",
        "shift": "班次",
        "crew": "车组",
        "stops": "站点",
        "distance": "里程",
        "on_road": "出车时间",
        "idle": "空闲",
        "unassigned": "未分配",
        "all_assigned": "全部访问均已分配",
        "reason_missing_skill": "缺少技能",
        "reason_wrong_visit_kind": "车型不符",
        "reason_crew_too_small": "人手不足",
        "reason_too_heavy": "超重",
        "reason_too_bulky": "超体积",
        "reason_too_much_cash": "现金超限",
        "reason_window_unreachable": "时段无法到达",
        "reason_pinned_crew_cannot": "指定车组无法完成",
        "reason_no_room": "车组已满",
        "reason_not_planned": "未来得及规划",
        "reason_dispatcher": "调度员移出",
        "reason_no_crew_that_day": "可做的日子无车组",
        "reason_later_day": "安排在之后的日期",
        "reason_invalid_order": "订单数据无效",
        "move": "调整访问",
        "move_order": "访问",
        "move_to": "移至车组",
        "move_reason": "修改原因（已发布的计划必填）",
        "move_button": "移动",
        "not_on_a_crew": "未分配",
        "exports": "导出",
        "dispatch_sheet": "派车单",
        "picking_lists": "拣货单",
        "no_plan": "该日期还没有计划。",
        "no_plan_hint": "点击“开始规划”为这一天排线路。",
        "past_date": "过去的日期不能再规划。",
        "bad_date": "日期无效，已显示明天。",
        "superseded_note": "此计划已被更新的计划取代，仅供查看。",
        "job_queued": "排队中…",
        "job_done": "规划完成",
        "job_failed": "规划失败",
        "job_cancelled": "规划已取消",
        "job_attempt": "第 {n} 次运行",
        "job_requeued": "曾重新排队",
        "moved": "已移动",
        "published": "已发布",
    },
    "en": {
        "board": "Dispatch board",
        "plan": "Plan",
        "version": "version",
        "status_draft": "draft",
        "status_published": "published",
        "status_superseded": "superseded",
        "published_late": "Published {minutes} min after the cut-off ({cutoff} the day before): "
        "tell the warehouse; the installation reminders went out late too",
        "other_plans": "Plans of the date",
        "kpi_visits": "Routed / total",
        "kpi_km": "Distance (km)",
        "kpi_crews": "Crews used",
        "start_plan": "Start planning",
        "rerun_plan": "Plan again",
        "plan_seconds": "Time limit (s)",
        "cancel": "Cancel",
        "publish": "Publish",
        "publish_confirm": "Publishing shows the routes to the crews. Publish now?",
        "map": "Route map",
        "timeline": "Timeline",
        "travel": "Travel",
        "wait": "Wait",
        "service": "Service",
        "deposit": "Bank deposit",
        "back_to_depot": "Back to depot",
        "morning": "Morning",
        "afternoon": "Afternoon",
        "shift": "Shift",
        "crew": "Crew",
        "stops": "Stops",
        "distance": "Distance",
        "on_road": "On the road",
        "idle": "idle",
        "unassigned": "Unassigned",
        "all_assigned": "Every visit is on a crew",
        "reason_missing_skill": "missing skill",
        "reason_wrong_visit_kind": "wrong vehicle kind",
        "reason_crew_too_small": "crew too small",
        "reason_too_heavy": "too heavy",
        "reason_too_bulky": "too bulky",
        "reason_too_much_cash": "too much cash",
        "reason_window_unreachable": "slot unreachable",
        "reason_pinned_crew_cannot": "pinned crew cannot",
        "reason_no_room": "no room",
        "reason_not_planned": "not reached",
        "reason_dispatcher": "taken off by a dispatcher",
        "reason_no_crew_that_day": "no crew on its days",
        "reason_later_day": "planned for a later day",
        "reason_invalid_order": "order data invalid",
        "move": "Move a visit",
        "move_order": "Visit",
        "move_to": "To crew",
        "move_reason": "Reason (required once published)",
        "move_button": "Move",
        "not_on_a_crew": "unassigned",
        "exports": "Exports",
        "dispatch_sheet": "Dispatch sheet",
        "picking_lists": "Picking lists",
        "no_plan": "There is no plan for this date yet.",
        "no_plan_hint": "Press “Start planning” to route the day.",
        "past_date": "A past date cannot be planned.",
        "bad_date": "That was not a date; showing tomorrow.",
        "superseded_note": "A newer plan replaced this one; it is shown for reference only.",
        "job_queued": "Queued…",
        "job_done": "Planning finished",
        "job_failed": "Planning failed",
        "job_cancelled": "Planning cancelled",
        "job_attempt": "run {n}",
        "job_requeued": "re-queued because",
        "moved": "Moved",
        "published": "Published",
    },
}


@dataclass(frozen=True)
class Crew:
    code: str
    name: str  # plate or crew name
    stops: int
    distance_km: float
    hours: str  # "08:10–16:40" on the road, or "" when idle


@dataclass(frozen=True)
class Loose:
    """A visit the plan leaves without a crew, and why."""

    external_id: str
    customer: str
    code: str
    reason: str


@dataclass(frozen=True)
class Choice:
    """A visit the move form offers, with the crew it is on now (None: unassigned)."""

    external_id: str
    customer: str
    vehicle: str | None


@dataclass(frozen=True)
class Board:
    area: str  # the area whose plans the board shows: one desk's day
    areas: list[tuple[str, str]]  # (code, name) of the areas the key sees, for the picker
    date: dt.date
    today: dt.date
    plan: PlanSummary | None
    plans: list[PlanSummary]  # every plan of the date, newest first
    crews: list[Crew]
    timeline: Timeline
    unassigned: list[Loose]
    choices: list[Choice]
    vehicles: list[str]  # crews a visit may be moved to
    plan_seconds: float
    late_minutes: int  # how late the shown plan was published; 0: in time or not published
    cutoff: str  # the publishing cut-off, HH:MM on the day before

    @property
    def editable(self) -> bool:
        return self.plan is not None and self.plan.status is not PlanStatus.SUPERSEDED

    @property
    def can_plan(self) -> bool:
        return self.date >= self.today


def board_date(text: str | None, *, today: dt.date) -> tuple[dt.date, bool]:
    """The asked date, or tomorrow by the service clock; False when the text was no date."""
    tomorrow = today + dt.timedelta(days=1)
    if not text:
        return tomorrow, True
    try:
        return dt.date.fromisoformat(text), True
    except ValueError:
        return tomorrow, False


def board(
    *,
    session: Session,
    settings: ServiceSettings,
    area: str,
    areas: list[tuple[str, str]],
    date: dt.date,
    today: dt.date,
    plan_id: int | None = None,
) -> Board:
    """The board of the area's `date`, or of plan `plan_id` (whose date then wins).
    `settings` are the area's own (local_settings)."""
    if plan_id is not None:
        asked = session.get(Plan, plan_id)
        if asked is None:
            raise NotFound(f"plan {plan_id} does not exist")
        date = asked.date
    plans = service.list_plans(session=session, date=date, limit=200, areas=(area,))
    summary = _chosen(plans, plan_id)
    stored = None
    cutoff = settings
    if summary is not None:
        row = session.get(Plan, summary.id)  # already in the session from list_plans
        assert row is not None
        stored = load(session, row)
        cutoff = area_cutoff(session=session, settings=settings, area=row.area_code)
    vehicles = _vehicles(session, area, date, stored)
    routes = _timed_routes(stored, vehicles) if stored else []
    return Board(
        area=area,
        areas=areas,
        date=date,
        today=today,
        plan=summary,
        plans=plans,
        crews=_crews(stored, vehicles) if stored else [],
        timeline=_timeline(settings, routes, vehicles),
        unassigned=_loose(stored) if stored else [],
        choices=_choices(stored) if stored else [],
        vehicles=list(vehicles),
        plan_seconds=settings.default_plan_seconds,
        late_minutes=(
            minutes_late(cutoff, date, summary.published_at)
            if summary is not None and summary.published_at is not None
            else 0
        ),
        cutoff=f"{cutoff.publish_cutoff:%H:%M}",
    )


def _chosen(plans: Sequence[PlanSummary], plan_id: int | None) -> PlanSummary | None:
    """The asked plan, else the newest still in force: a fresh draft before the published."""
    if plan_id is not None:
        return next((plan for plan in plans if plan.id == plan_id), None)
    live = [plan for plan in plans if plan.status is not PlanStatus.SUPERSEDED]
    newest = live or list(plans)
    return newest[0] if newest else None


def _vehicles(
    session: Session, area: str, date: dt.date, stored: Stored | None
) -> dict[str, Vehicle]:
    """The area's crews of the date, plus any vehicle the plan still routes (retired since,
    say)."""
    vehicles = {v.code: v for v in working_vehicles(session=session, date=date, area=area)}
    missing = {route.vehicle_code for route in stored.routes} - set(vehicles) if stored else set()
    if missing:
        query = select(Vehicle).where(col(Vehicle.code).in_(missing))
        vehicles.update({vehicle.code: vehicle for vehicle in session.exec(query)})
    return dict(sorted(vehicles.items()))


def _shift(vehicle: Vehicle) -> tuple[int, int]:
    return seconds_of_day(vehicle.shift_start), seconds_of_day(vehicle.shift_end)


def _timed_routes(stored: Stored, vehicles: Mapping[str, Vehicle]) -> list[TimedRoute]:
    """Every crew of the board: routed ones with their stops, idle ones empty at shift start."""
    by_vehicle: dict[str, list[PlanStop]] = {}
    for stop in sorted(stored.stops, key=lambda s: (s.vehicle_code, s.position)):
        by_vehicle.setdefault(stop.vehicle_code, []).append(stop)
    banked: dict[str, list[PlanDeposit]] = {}
    for deposit in stored.deposits:
        banked.setdefault(deposit.vehicle_code, []).append(deposit)
    routes = {
        row.vehicle_code: TimedRoute(
            row.vehicle_code,
            row.departure,
            row.return_time,
            [
                _timed(line, stored)
                for line in in_route_order(
                    by_vehicle.get(row.vehicle_code, []), banked.get(row.vehicle_code, [])
                )
            ],
        )
        for row in stored.routes
    }
    for code, vehicle in vehicles.items():
        if code not in routes:
            begin = _shift(vehicle)[0]
            routes[code] = TimedRoute(code, begin, begin, [])
    return [routes[code] for code in sorted(routes)]


def _timed(line: PlanStop | PlanDeposit, stored: Stored) -> TimedStop:
    if isinstance(line, PlanDeposit):
        bank = f"存款 {line.bank_name or line.bank_code} ¥{line.amount_fen // 100:,}"
        return TimedStop(
            line.bank_code, line.arrival, line.start, line.departure, bank, kind="deposit"
        )
    order = stored.orders[line.order_id]
    return TimedStop(order.external_id, line.arrival, line.start, line.departure, order.customer)


def _timeline(
    settings: ServiceSettings, routes: Sequence[TimedRoute], vehicles: Mapping[str, Vehicle]
) -> Timeline:
    slots = {slot: settings.slot_window(slot) for slot in SLOTS}
    shifts = {code: _shift(vehicle) for code, vehicle in vehicles.items()}
    hours = day_hours(windows=[*slots.values(), *shifts.values()], routes=routes)
    return timeline(routes=routes, hours=hours, slots=slots, shifts=shifts)


def _crews(stored: Stored, vehicles: Mapping[str, Vehicle]) -> list[Crew]:
    counts: dict[str, int] = {}
    for stop in stored.stops:
        counts[stop.vehicle_code] = counts.get(stop.vehicle_code, 0) + 1
    routes = {row.vehicle_code: row for row in stored.routes}
    crews = []
    for code in sorted(set(vehicles) | set(routes)):
        route, vehicle = routes.get(code), vehicles.get(code)
        crews.append(
            Crew(
                code=code,
                name=vehicle.name if vehicle else "",
                stops=counts.get(code, 0),
                distance_km=round(route.distance_m / 1000, 1) if route else 0.0,
                hours=f"{hhmm(route.departure)}–{hhmm(route.return_time)}" if route else "",
            )
        )
    return crews


def _loose(stored: Stored) -> list[Loose]:
    return [
        Loose(
            external_id=stored.orders[row.order_id].external_id,
            customer=stored.orders[row.order_id].customer,
            code=row.code,
            reason=row.reason,
        )
        for row in stored.unassigned
    ]


def _choices(stored: Stored) -> list[Choice]:
    on = {stop.order_id: stop.vehicle_code for stop in stored.stops}
    ids = [*on, *(row.order_id for row in stored.unassigned)]
    orders = sorted((stored.orders[i] for i in ids), key=lambda order: order.external_id)
    return [Choice(o.external_id, o.customer, on.get(o.id or 0)) for o in orders]

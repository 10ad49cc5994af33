"""Publishing a plan: the crews' routes are frozen, the orders on them planned.

A plan is one area's, so publishing it supersedes only the same area's published plan of
the date; other areas' plans and orders stay as they are.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.areas.scope import local_settings
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.errors import Conflict
from api.plans.cutoff import late_warning, minutes_late
from api.plans.drafts import Change, Editor, bump, follow_orders, judge, load, record
from api.plans.edits import PlanEdited, check_version, plan_inputs, plan_view
from api.plans.models import Plan, PlanStatus, PlanStop
from api.tickets.visits import assign_planned_visits, release_dropped_visits


def publish_plan(
    *, session: Session, settings: ServiceSettings, plan_id: int, editor: Editor
) -> PlanEdited:
    """Freeze a draft for the crews; the area's earlier published plan of the date is
    superseded, and no other area's plan or order is touched."""
    plan = get_or_404(session, Plan, "plan", id=plan_id)
    editor.check_scope(plan)
    check_version(plan, editor.version)
    if plan.status is not PlanStatus.DRAFT:
        raise Conflict(f"plan {plan_id} is {plan.status.value}; only a draft can be published")
    stored = load(session, plan)
    draft = stored.draft()
    local = local_settings(session=session, settings=settings, area=plan.area_code)
    inputs = plan_inputs(session, settings, plan, pins=draft.pins(session, plan))
    # The whole plan is judged: crews must get routes that hold against today's orders.
    judge(inputs.data, draft.routes, draft.placed())
    _lock_area_day(session, plan)
    published = {
        "status": PlanStatus.PUBLISHED,
        "published_at": editor.now,
        "published_by": editor.by,
    }
    version = bump(session, plan_id, editor.version, published)
    superseded = _supersede(session, plan, editor)
    on = {stop.order_id for stop in stored.stops}
    was_on = _orders_on(session, superseded)
    follow_orders(session, on=on, off=was_on - on, plan_id=plan_id, date=plan.date, editor=editor)
    assign_planned_visits(session, plan_id=plan_id, now=editor.now, by=editor.by)
    release_dropped_visits(
        session, plan_id=plan_id, superseded=superseded, now=editor.now, by=editor.by
    )
    # The area's own cut-off, on its own wall clock.
    late = minutes_late(local, plan.date, editor.now)
    detail = {"superseded": superseded, **({"late_minutes": late} if late else {})}
    record(session, plan_id, version, editor, Change("publish", detail))
    session.commit()
    session.expire_all()
    view = plan_view(session=session, plan_id=plan_id)
    warning = late_warning(local, plan.date, late)
    return view.model_copy(update={"warnings": [warning] if warning else []})


def _lock_area_day(session: Session, plan: Plan) -> None:
    """Lock the area's plans of the date in id order, so two publishes queue up and the
    later supersedes the earlier (SQLite serialises writers anyway)."""
    session.exec(
        select(Plan.id)
        .where(Plan.area_code == plan.area_code, Plan.date == plan.date)
        .order_by(col(Plan.id))
        .with_for_update()
    ).all()


def _supersede(session: Session, plan: Plan, editor: Editor) -> list[int]:
    """Retire the published plans of the same area and date; other areas keep theirs."""
    plan_id = plan.id
    query = (
        select(Plan)
        .where(
            Plan.area_code == plan.area_code,
            Plan.date == plan.date,
            Plan.status == PlanStatus.PUBLISHED,
            col(Plan.id) != plan_id,
        )
        .execution_options(populate_existing=True)
    )
    superseded: list[int] = []
    for old in session.exec(query).all():
        if old.id is None:
            continue
        # A superseded plan changed too: whoever still holds its old version must reload.
        old.status, old.version = PlanStatus.SUPERSEDED, old.version + 1
        session.add(old)
        record(
            session, old.id, old.version, editor, Change("supersede", {"superseded_by": plan_id})
        )
        superseded.append(old.id)
    return superseded


def _orders_on(session: Session, plan_ids: list[int]) -> set[int]:
    if not plan_ids:
        return set()
    return set(session.exec(select(PlanStop.order_id).where(col(PlanStop.plan_id).in_(plan_ids))))

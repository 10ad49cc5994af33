"""Dispatcher edits of a stored plan: move, pin, unassign, re-optimise, publish.

Every edit rebuilds the day's ProblemData through planning_input, applies the change to the
stored routes, lets the independent checker judge the routes it touched, re-times them and
stores everything with the version bump in one transaction (see api.plans.drafts). Once a
plan is published, every edit must say why (override_reason).

A plan is one area's: edits see only that area's orders and crews, under its settings, and
publishing supersedes only the same area's plan of the date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from sqlmodel import Field, Session, SQLModel, col, select

from api.areas.scope import check_scope, local_settings, vehicle_area
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.crud import get_or_404
from api.core.errors import Conflict, NotFound, RuleBroken
from api.core.requests import FINITE
from api.plans.drafts import (
    Change,
    Draft,
    Editor,
    Outcome,
    Stored,
    judge,
    kpis,
    left_out,
    load,
    retime,
    store,
)
from api.plans.model_input import PlanningInput, planning_input
from api.plans.models import MAX_SEED, Plan, PlanChange, PlanStatus
from api.plans.plannable import PLANNABLE
from optimizer.horizon import first_day
from optimizer.params import SolveParams
from optimizer.result import ReasonCode
from optimizer.solve import solve

MAX_REOPTIMIZE_S = 30.0  # the dispatcher waits on the request; longer runs go through a job


class EditRequest(SQLModel):
    override_reason: str = Field(default="", max_length=500, description="needed once published")


class MoveRequest(EditRequest):
    order: str = Field(min_length=1, max_length=64, description="the order's external id")
    vehicle_code: str = Field(min_length=1, max_length=32)
    position: int | None = Field(default=None, ge=1, description="1-based; default: the end")


class PinRequest(EditRequest):
    order: str = Field(min_length=1, max_length=64)
    pinned: bool


class UnassignRequest(EditRequest):
    order: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class ReoptimizeRequest(EditRequest):
    model_config = FINITE
    time_limit_s: float = Field(default=10.0, gt=0, le=MAX_REOPTIMIZE_S)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


class PlanEdited(SQLModel):
    plan_id: int
    version: int
    routes: dict[str, list[str]]  # vehicle code -> external ids in visiting order
    unassigned: list[str]
    warnings: list[str] = Field(default_factory=list)


class PlanChangePublic(SQLModel):
    version: int
    kind: str
    by: str
    override_reason: str
    detail: dict[str, Any]
    at: dt.datetime


def plan_view(*, session: Session, plan_id: int) -> PlanEdited:
    stored = load(session, get_or_404(session, Plan, "plan", id=plan_id))
    draft = stored.draft()
    return PlanEdited(
        plan_id=plan_id,
        version=stored.plan.version,
        routes=draft.routes,
        unassigned=list(draft.unassigned),
    )


def list_changes(
    *, session: Session, plan_id: int, principal: Principal | None = None
) -> tuple[int, list[PlanChange]]:
    """The plan's current version and its changes, oldest first; 403 for a reader whose
    scope does not hold the plan's area (None: the service itself)."""
    plan = get_or_404(session, Plan, "plan", id=plan_id)
    if principal is not None:
        check_scope(principal, plan.area_code)
    query = select(PlanChange).where(PlanChange.plan_id == plan_id).order_by(col(PlanChange.id))
    return plan.version, list(session.exec(query))


def move_visit(
    *,
    session: Session,
    settings: ServiceSettings,
    plan_id: int,
    editor: Editor,
    request: MoveRequest,
) -> PlanEdited:
    """Put a visit on a crew at a position; it may come from another crew or the unassigned."""

    def apply(draft: Draft, plan: Plan) -> dict[str, Any]:
        owner = vehicle_area(session=session, vehicle_code=request.vehicle_code)
        if owner is not None and owner != plan.area_code:
            # Crews never cross areas: a move names one of the plan's own area's vehicles.
            raise RuleBroken(
                f"{request.vehicle_code} is a vehicle of area {owner}, not of this plan's "
                f"area {plan.area_code}",
                field="vehicle_code",
                rule="vehicle_area",
            )
        source = draft.take(request.order)
        route = draft.routes.setdefault(request.vehicle_code, [])
        index = len(route) if request.position is None else request.position - 1
        if index > len(route):
            raise RuleBroken(
                f"position {request.position} is past the end of {request.vehicle_code}'s "
                f"route ({len(route)} other stops)",
                field="position",
            )
        route.insert(index, request.order)
        draft.affected.add(request.vehicle_code)
        # The pin stays with the crew it names, so the checker refuses moving it elsewhere.
        return {
            "order": request.order,
            "from": source,
            "to": request.vehicle_code,
            "position": index + 1,
        }

    return _edit(session, settings, plan_id, editor, request, "move", apply)


def set_pin(
    *,
    session: Session,
    settings: ServiceSettings,
    plan_id: int,
    editor: Editor,
    request: PinRequest,
) -> PlanEdited:
    """Fix a visit to its crew (re-optimising keeps it there), or release it."""

    def apply(draft: Draft, _: Plan) -> dict[str, Any]:
        vehicle = draft.vehicle_of(request.order)
        if vehicle is None:
            if request.order not in draft.unassigned:
                raise NotFound(f"order {request.order!r} is not on plan {plan_id}")
            raise Conflict(f"{request.order} is unassigned; move it onto a crew before pinning")
        if request.pinned:
            draft.pinned[request.order] = vehicle
        else:
            draft.pinned.pop(request.order, None)
        draft.affected.add(vehicle)
        return {"order": request.order, "vehicle": vehicle}

    kind = "pin" if request.pinned else "unpin"
    return _edit(session, settings, plan_id, editor, request, kind, apply)


def unassign_visit(
    *,
    session: Session,
    settings: ServiceSettings,
    plan_id: int,
    editor: Editor,
    request: UnassignRequest,
) -> PlanEdited:
    """Take a visit off its crew, with the dispatcher's reason."""

    def apply(draft: Draft, _: Plan) -> dict[str, Any]:
        if request.order in draft.unassigned:
            raise Conflict(f"{request.order} is already unassigned")
        source = draft.take(request.order)
        draft.pinned.pop(request.order, None)
        draft.unassigned[request.order] = (ReasonCode.DISPATCHER.value, request.reason)
        return {"order": request.order, "from": source, "reason": request.reason}

    return _edit(session, settings, plan_id, editor, request, "unassign", apply)


def _edit(
    session: Session,
    settings: ServiceSettings,
    plan_id: int,
    editor: Editor,
    request: EditRequest,
    kind: str,
    apply: Callable[[Draft, Plan], dict[str, Any]],
) -> PlanEdited:
    stored = load(session, _editable(session, plan_id, editor, request.override_reason))
    draft = stored.draft()
    detail = apply(draft, stored.plan)
    inputs = plan_inputs(session, settings, stored.plan, pins=draft.pins(session, stored.plan))
    # Only the touched routes are judged: an edit must not be blocked, or blamed, for a
    # problem elsewhere in the plan (an order changed since solving, say).
    touched = {vehicle: draft.routes.get(vehicle, []) for vehicle in sorted(draft.affected)}
    draft.fit(inputs.data, touched)
    placed = draft.placed()
    judge(inputs.data, touched, placed)
    routes = retime(inputs.data, touched, placed)
    every_route = [*routes, *stored.routes_except(draft.affected)]
    outcome = Outcome(
        replaced=draft.affected,
        routes=routes,
        draft=draft,
        orders={**stored.by_external_id, **inputs.orders},
        plan_values={"kpis": kpis(inputs.data, every_route, left_out(draft.unassigned))},
        banks=inputs.data.banks,
    )
    store(session, stored, editor, outcome, Change(kind, detail, request.override_reason))
    return plan_view(session=session, plan_id=plan_id)


def reoptimize_plan(
    *,
    session: Session,
    settings: ServiceSettings,
    plan_id: int,
    editor: Editor,
    request: ReoptimizeRequest,
) -> PlanEdited:
    """Re-solve the date, keeping pins and what a dispatcher took off by hand."""
    stored = load(session, _editable(session, plan_id, editor, request.override_reason))
    draft = stored.draft()
    pins = draft.pins(session, stored.plan)
    held = _held_back(stored, draft)
    inputs = plan_inputs(session, settings, stored.plan, pins=pins, exclude=held)
    pins = {order: vehicle for order, vehicle in pins.items() if order in inputs.orders}
    fleet = {vehicle.id for vehicle in inputs.data.vehicles}
    # The current routes warm-start the search; the engine ignores them if they no longer fit.
    warm = {
        vehicle: [order for order in visits if order in inputs.orders]
        for vehicle, visits in draft.routes.items()
        if vehicle in fleet
    }
    params = SolveParams(time_limit_s=request.time_limit_s)
    result = first_day(
        inputs.data, solve(inputs.data, params, seed=request.seed, initial_routes=warm)
    )
    if not result.ok:
        why = "; ".join(result.reasons) or result.status.value
        raise Conflict(f"re-optimising found no valid plan ({why}); the plan is unchanged")
    routes = {route.vehicle_id: list(route.visit_ids) for route in result.routes}
    deposits = {r.vehicle_id: [(d.after, d.bank_id) for d in r.deposits] for r in result.routes}
    # solve has checked already; kept so every edit has one gate
    judge(inputs.data, routes, deposits)
    unassigned = {u.visit_id: (u.code.value, u.reason) for u in result.unassigned}
    left = {**unassigned, **inputs.refusals(), **held}
    after = Draft(routes=routes, pinned=pins, unassigned=left)
    values = {
        "kpis": kpis(inputs.data, result.routes, left_out(after.unassigned)),
        "seed": request.seed,
        "time_limit_s": request.time_limit_s,
        "params": params.as_dict(),
        "solver_status": result.status.value,
        "objective": result.objective,
    }
    outcome = Outcome(
        replaced=None,
        routes=result.routes,
        draft=after,
        orders={**stored.by_external_id, **inputs.every_order},
        plan_values=values,
        banks=inputs.data.banks,
    )
    detail = {"seed": request.seed, "time_limit_s": request.time_limit_s, "pins": pins}
    store(session, stored, editor, outcome, Change("reoptimize", detail, request.override_reason))
    return plan_view(session=session, plan_id=plan_id)


def plan_inputs(
    session: Session,
    settings: ServiceSettings,
    plan: Plan,
    *,
    pins: dict[str, str],
    exclude: Collection[str] = (),
) -> PlanningInput:
    """The plan's area's day as the planner sees it, under the area's own settings."""
    local = local_settings(session=session, settings=settings, area=plan.area_code)
    return planning_input(
        session=session,
        date=plan.date,
        settings=local,
        pins=pins,
        exclude=exclude,
        area=plan.area_code,
    )


def _editable(session: Session, plan_id: int, editor: Editor, override_reason: str) -> Plan:
    plan = get_or_404(session, Plan, "plan", id=plan_id)
    editor.check_scope(plan)
    check_version(plan, editor.version)
    if plan.status is PlanStatus.SUPERSEDED:
        raise Conflict(f"plan {plan_id} is superseded; edit the date's published plan instead")
    if plan.status is PlanStatus.PUBLISHED and not override_reason.strip():
        raise Conflict(
            "the plan is published; an override_reason is required", field="override_reason"
        )
    return plan


def check_version(plan: Plan, expected: int) -> None:
    if plan.version != expected:
        raise Conflict(f"the plan changed (version {plan.version}); reload and retry")


def _held_back(stored: Stored, draft: Draft) -> dict[str, tuple[str, str]]:
    """Visits a dispatcher took off by hand that still need a visit that day."""
    live = {
        order.external_id
        for order in stored.orders.values()
        if order.status in PLANNABLE and order.date == stored.plan.date
    }
    return {
        order: why
        for order, why in draft.unassigned.items()
        if why[0] == ReasonCode.DISPATCHER.value and order in live
    }

"""Planning requests, their jobs, and the stored plans read back for dispatchers.

Each job and plan is one area's: a key sees and touches only those of its scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.areas.scope import check_scope, local_settings, resolve_area, resolve_areas
from api.areas.service import existing_area
from api.auth.models import utcnow
from api.auth.service import Principal
from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.core.crud import get_or_404, save
from api.core.errors import Conflict, RuleBroken
from api.orders.models import Order
from api.orders.service import check_horizon
from api.plans.deposits import deposits_by_vehicle
from api.plans.mapping import result_rows, stored_id
from api.plans.model_input import PlanningInput
from api.plans.models import (
    JobStatus,
    KpisPublic,
    Plan,
    PlanChange,
    PlanJob,
    PlanJobCreate,
    PlanPublic,
    PlanRoute,
    PlanStatus,
    PlanStop,
    PlanSummary,
    PlanUnassigned,
    RoutePublic,
    StopPublic,
    UnassignedPublic,
)
from optimizer.explain import hhmm
from optimizer.params import SolveParams
from optimizer.result import Result

PLANNER = "planner"  # who the plan history names for changes the planning worker makes


def new_job(
    *,
    area: str,
    date: dt.date,
    settings: ServiceSettings,
    requested_by: str,
    time_limit_s: float | None = None,
    seed: int = 0,
) -> PlanJob:
    """An unsaved queued job; the parameters are fixed now so the plan can be reproduced."""
    limit = time_limit_s or settings.default_plan_seconds
    return PlanJob(
        area_code=area,
        date=date,
        time_limit_s=limit,
        seed=seed,
        params=SolveParams(time_limit_s=limit).as_dict(),
        requested_by=requested_by,
    )


def named_areas(*, session: Session, principal: Principal, area: str | None) -> tuple[str, ...]:
    """The areas a request covers: the one named (outside the scope 403, unknown 422 naming
    `area`), or every area the key sees."""
    if area is not None:
        check_scope(principal, area)
        existing_area(session=session, code=area)
    return resolve_areas(session=session, principal=principal, area=area)


def job_area(*, session: Session, principal: Principal, area: str | None) -> str:
    """The one area a planning request is for; a key of several areas must name it."""
    named_areas(session=session, principal=principal, area=area)
    return resolve_area(session=session, principal=principal, area=area)


def submit_job(
    *,
    session: Session,
    request: PlanJobCreate,
    settings: ServiceSettings,
    clock: Clock,
    principal: Principal,
) -> PlanJob:
    """Queue the planning of one area's date; "today" is on the area's own wall clock."""
    area = job_area(session=session, principal=principal, area=request.area)
    local = local_settings(session=session, settings=settings, area=area)
    today = clock.today_in(local.timezone)
    if request.date < today:
        raise RuleBroken(f"{request.date} is in the past; plan today or later", field="date")
    check_horizon(settings=local, today=today, date=request.date)
    job = new_job(
        area=area,
        date=request.date,
        settings=local,
        requested_by=principal.name,
        time_limit_s=request.time_limit_s,
        seed=request.seed,
    )
    return save(session, job, what="plan job")


def get_job(*, session: Session, job_id: int, principal: Principal | None = None) -> PlanJob:
    """A job; 403 when it is of an area outside the key's scope (None: the service itself)."""
    job = get_or_404(session, PlanJob, "plan job", id=job_id)
    if principal is not None:
        check_scope(principal, job.area_code)
    return job


def list_jobs(
    *, session: Session, areas: tuple[str, ...], date: dt.date, active: bool, limit: int
) -> list[PlanJob]:
    """The areas' planning jobs of a date, newest first; `active` keeps the queued and
    running ones, so a board can follow a job started elsewhere (the 15:00 scheduler)."""
    query = (
        select(PlanJob)
        .where(PlanJob.date == date, col(PlanJob.area_code).in_(areas))
        .order_by(col(PlanJob.created_at).desc(), col(PlanJob.id).desc())
        .limit(limit)
    )
    if active:
        query = query.where(col(PlanJob.status).in_([JobStatus.QUEUED, JobStatus.RUNNING]))
    return list(session.exec(query))


def cancel_job(*, session: Session, job_id: int, principal: Principal) -> PlanJob:
    """A queued job ends at once; a running one is asked to stop; a finished one is a 409."""
    get_job(session=session, job_id=job_id, principal=principal)
    connection = session.connection()
    # Conditional updates, so a worker claiming or finishing the job at the same moment
    # cannot be overwritten: whichever commits first decides.
    changed = connection.execute(
        update(PlanJob)
        .where(col(PlanJob.id) == job_id, col(PlanJob.status) == JobStatus.QUEUED)
        .values(status=JobStatus.CANCELLED, finished_at=utcnow(), message="cancelled before it ran")
    ).rowcount
    if not changed:
        changed = connection.execute(
            update(PlanJob)
            .where(col(PlanJob.id) == job_id, col(PlanJob.status) == JobStatus.RUNNING)
            .values(cancel_requested=True)
        ).rowcount
    session.commit()
    job = get_job(session=session, job_id=job_id)
    if not changed:
        raise Conflict(f"plan job {job_id} is already {job.status.value}; nothing to cancel")
    return job


def list_plans(
    *, session: Session, date: dt.date | None, limit: int, areas: tuple[str, ...] | None = None
) -> list[PlanSummary]:
    """The areas' plans (None: every area's), newest first."""
    query = select(Plan).order_by(col(Plan.created_at).desc(), col(Plan.id).desc()).limit(limit)
    if areas is not None:
        query = query.where(col(Plan.area_code).in_(areas))
    if date is not None:
        query = query.where(Plan.date == date)
    return [_summary(plan) for plan in session.exec(query)]


def plan_in_scope(*, session: Session, plan_id: int, principal: Principal) -> Plan:
    """A plan the key may see: 404 when there is none, 403 when its area is outside scope."""
    plan = get_or_404(session, Plan, "plan", id=plan_id)
    check_scope(principal, plan.area_code)
    return plan


def get_plan(*, session: Session, plan_id: int, principal: Principal) -> PlanPublic:
    plan = plan_in_scope(session=session, plan_id=plan_id, principal=principal)
    stops = session.exec(
        select(PlanStop, Order)
        .join(Order, col(PlanStop.order_id) == col(Order.id))
        .where(PlanStop.plan_id == plan_id)
        .order_by(col(PlanStop.vehicle_code), col(PlanStop.position))
    )
    by_vehicle: dict[str, list[StopPublic]] = {}
    for stop, order in stops:
        by_vehicle.setdefault(stop.vehicle_code, []).append(_stop(stop, order))
    deposits = deposits_by_vehicle(session=session, plan_id=plan_id)
    routes = session.exec(
        select(PlanRoute).where(PlanRoute.plan_id == plan_id).order_by(col(PlanRoute.vehicle_code))
    )
    unassigned = session.exec(
        select(PlanUnassigned, Order)
        .join(Order, col(PlanUnassigned.order_id) == col(Order.id))
        .where(PlanUnassigned.plan_id == plan_id)
        .order_by(col(PlanUnassigned.id))
    )
    return PlanPublic(
        **_summary(plan).model_dump(),
        routes=[
            RoutePublic(
                vehicle_code=route.vehicle_code,
                departure=hhmm(route.departure),
                return_time=hhmm(route.return_time),
                distance_km=round(route.distance_m / 1000, 1),
                stops=by_vehicle.get(route.vehicle_code, []),
                deposits=deposits.get(route.vehicle_code, []),
            )
            for route in routes
        ],
        unassigned=[
            UnassignedPublic(
                order_id=stored_id(order),
                external_id=order.external_id,
                customer=order.customer,
                code=row.code,
                reason=row.reason,
            )
            for row, order in unassigned
        ],
    )


def store_plan(*, session: Session, job: PlanJob, result: Result, planning: PlanningInput) -> Plan:
    """Add the plan, its rows, and retire older drafts of its area and date; the caller
    commits."""
    plan = Plan(
        area_code=job.area_code,
        date=job.date,
        seed=job.seed,
        time_limit_s=job.time_limit_s,
        params=job.params,
        solver_status=result.status.value,
        objective=result.objective,
        kpis=asdict(result.kpis),
        job_id=job.id,
    )
    session.add(plan)
    session.flush()
    assert plan.id is not None  # assigned by the flush
    rows = result_rows(
        plan_id=plan.id,
        result=result,
        orders=planning.every_order,
        banks=planning.data.banks,
    )
    session.add_all(rows.every_row)
    _supersede_drafts(session, plan)
    return plan


def _supersede_drafts(session: Session, plan: Plan) -> None:
    # Published plans stay in force until a newer one is published; only drafts retire here.
    # The version bump makes a dispatcher's pending edit of a retired draft fail its ETag.
    retired = session.connection().execute(
        update(Plan)
        .where(
            col(Plan.area_code) == plan.area_code,
            col(Plan.date) == plan.date,
            col(Plan.status) == PlanStatus.DRAFT,
            col(Plan.id) != plan.id,
        )
        .values(status=PlanStatus.SUPERSEDED, version=col(Plan.version) + 1)
        .returning(col(Plan.id), col(Plan.version))
    )
    for row in retired.mappings():
        session.add(
            PlanChange(
                plan_id=row["id"],
                version=row["version"],
                kind="supersede",
                by=PLANNER,
                detail={"superseded_by": plan.id},
            )
        )


def _summary(plan: Plan) -> PlanSummary:
    return PlanSummary(**plan.model_dump(exclude={"kpis"}), kpis=_kpis(plan.kpis))


def _kpis(stored: dict[str, Any]) -> KpisPublic:
    return KpisPublic(
        visits_total=stored.get("visits_total", 0),
        visits_routed=stored.get("visits_routed", 0),
        visits_unassigned=stored.get("visits_unassigned", 0),
        vehicles_used=stored.get("vehicles_used", 0),
        distance_km=round(stored.get("distance_m", 0) / 1000, 1),
        working_hours=round(stored.get("working_seconds", 0) / 3600, 2),
        utilisation=round(stored.get("utilisation", 0.0), 3),
    )


def _stop(stop: PlanStop, order: Order) -> StopPublic:
    return StopPublic(
        position=stop.position,
        order_id=stored_id(order),
        external_id=order.external_id,
        customer=order.customer,
        address=order.address,
        phone=order.phone,
        service_type=order.service_type,
        slot=order.slot,
        arrival=hhmm(stop.arrival),
        start=hhmm(stop.start),
        departure=hhmm(stop.departure),
        weight_kg=round(stop.weight_on_board_g / 1000, 1),
        volume_m3=round(stop.volume_on_board_cm3 / 1_000_000, 3),
        cash_cny=round(stop.cash_on_board_fen / 100, 2),
        distance_from_previous_km=round(stop.distance_from_previous_m / 1000, 1),
        pinned=stop.pinned,
    )

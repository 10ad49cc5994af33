"""Planning endpoints: dispatchers start and cancel solves; the back office reads plans.

Every job and plan is one area's; keys see and act on those of their scope only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from api.areas.scope import AreaQuery
from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.plans import service
from api.plans.models import PlanJobCreate, PlanJobPublic, PlanPublic, PlanSummary
from api.plans.runner import JobRunner

router = APIRouter(prefix="/plans", tags=["plans"])
Planner = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))]


def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


RunnerDep = Annotated[JobRunner, Depends(get_runner)]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=PlanJobPublic)
def submit_job(
    body: PlanJobCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    runner: RunnerDep,
    principal: Planner,
) -> object:
    job = service.submit_job(
        session=session, request=body, settings=settings, clock=clock, principal=principal
    )
    runner.wake()
    response.headers["Location"] = f"/plans/jobs/{job.id}"
    return job


@router.get("/jobs", response_model=list[PlanJobPublic])
def list_jobs(
    session: SessionDep,
    principal: Reader,
    date: Annotated[dt.date, Query()],
    area: AreaQuery = None,
    active: Annotated[bool, Query(description="only queued and running jobs")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    areas = service.named_areas(session=session, principal=principal, area=area)
    return service.list_jobs(session=session, areas=areas, date=date, active=active, limit=limit)


@router.get("/jobs/{job_id}", response_model=PlanJobPublic)
def get_job(job_id: RowId, session: SessionDep, principal: Reader) -> object:
    return service.get_job(session=session, job_id=job_id, principal=principal)


@router.post("/jobs/{job_id}/cancel", response_model=PlanJobPublic)
def cancel_job(job_id: RowId, session: SessionDep, principal: Planner) -> object:
    return service.cancel_job(session=session, job_id=job_id, principal=principal)


@router.get("", response_model=list[PlanSummary])
def list_plans(
    session: SessionDep,
    principal: Reader,
    date: Annotated[dt.date | None, Query()] = None,
    area: AreaQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> object:
    areas = service.named_areas(session=session, principal=principal, area=area)
    return service.list_plans(session=session, areas=areas, date=date, limit=limit)


@router.get("/{plan_id}", response_model=PlanPublic)
def get_plan(plan_id: RowId, response: Response, session: SessionDep, principal: Reader) -> object:
    plan = service.get_plan(session=session, plan_id=plan_id, principal=principal)
    # The version is what a later edit must name in If-Match.
    response.headers["ETag"] = f'"{plan.version}"'
    return plan

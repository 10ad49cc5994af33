"""GET /health: what a load balancer and an operator need to know, without a key.

It names no data of any store: whether the database answers, which runner plans the jobs
(and whether its cluster is reachable, since when), how many jobs wait in the queue, and, on
the road provider, whether each city extract is prepared (a failed one degrades the status:
that area's plans would fail).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from api.core.deps import get_engine
from api.plans.models import JobStatus, PlanJob

router = APIRouter(tags=["health"])


def _queued(engine: Engine) -> int:
    with engine.connect() as connection:
        query = select(func.count()).where(col(PlanJob.status) == JobStatus.QUEUED)
        return int(connection.execute(query).scalar_one())


@router.get("/health")
def health(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> JSONResponse:
    """200 while the database answers (503 when it does not, so a balancer skips us); a
    cluster that is unreachable leaves jobs queued and is reported, not a failure."""
    body: dict[str, Any] = {"runner": request.app.state.runner.health()}
    try:
        body["queued_jobs"] = _queued(engine)
        body["database"] = "ok"
    except Exception as error:
        body["database"] = f"unreachable: {type(error).__name__}"
        return JSONResponse(body, status_code=503)
    runner_ok = body["runner"].get("cluster", "reachable") == "reachable"
    roads = request.app.state.roads.health()
    if roads:
        body["roads"] = roads
    roads_ok = all(extract["state"] != "failed" for extract in roads.values())
    body["status"] = "ok" if runner_ok and roads_ok else "degraded"
    return JSONResponse(body)

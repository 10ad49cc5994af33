"""Plan edit endpoints: dispatchers move, pin, unassign, re-optimise and publish.

Every edit names the version it was made from in If-Match and gets the new one back in
ETag, so a dispatcher working from an outdated screen is told to reload instead of
overwriting a colleague's change. A key edits and reads only plans of its own areas.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from api.auth.models import Role
from api.auth.service import Principal
from api.core.clock import ClockDep
from api.core.deps import RowId, SessionDep, SettingsDep, require
from api.core.errors import PreconditionRequired
from api.plans import edits, publish
from api.plans.drafts import Editor
from api.plans.edits import (
    MoveRequest,
    PinRequest,
    PlanChangePublic,
    PlanEdited,
    ReoptimizeRequest,
    UnassignRequest,
)

router = APIRouter(prefix="/plans/{plan_id}", tags=["plan edits"])
Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER))]
Reader = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.WAREHOUSE, Role.FINANCE))]


def if_match(if_match: Annotated[str | None, Header()] = None) -> int:
    """The plan version the caller saw, from If-Match: "<version>"."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            'If-Match: "<version>" is required; read the plan (GET /plans/{id}) for its version'
        )
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionRequired(f'If-Match must name a plan version such as "3", got {if_match}')
    return int(tag)


def editor(
    principal: Dispatcher, clock: ClockDep, version: Annotated[int, Depends(if_match)]
) -> Editor:
    # The role is checked before If-Match, so a caller who may not edit learns that first.
    return Editor(
        by=principal.name, version=version, now=clock.now().astimezone(dt.UTC), key=principal
    )


EditorDep = Annotated[Editor, Depends(editor)]


def _tagged(response: Response, edited: PlanEdited) -> PlanEdited:
    response.headers["ETag"] = f'"{edited.version}"'
    return edited


@router.post("/moves", response_model=PlanEdited)
def move_visit(
    plan_id: RowId,
    body: MoveRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: EditorDep,
) -> PlanEdited:
    edited = edits.move_visit(
        session=session, settings=settings, plan_id=plan_id, editor=who, request=body
    )
    return _tagged(response, edited)


@router.post("/pins", response_model=PlanEdited)
def set_pin(
    plan_id: RowId,
    body: PinRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: EditorDep,
) -> PlanEdited:
    edited = edits.set_pin(
        session=session, settings=settings, plan_id=plan_id, editor=who, request=body
    )
    return _tagged(response, edited)


@router.post("/unassign", response_model=PlanEdited)
def unassign_visit(
    plan_id: RowId,
    body: UnassignRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: EditorDep,
) -> PlanEdited:
    edited = edits.unassign_visit(
        session=session, settings=settings, plan_id=plan_id, editor=who, request=body
    )
    return _tagged(response, edited)


@router.post("/reoptimize", response_model=PlanEdited)
def reoptimize_plan(
    plan_id: RowId,
    body: ReoptimizeRequest,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: EditorDep,
) -> PlanEdited:
    edited = edits.reoptimize_plan(
        session=session, settings=settings, plan_id=plan_id, editor=who, request=body
    )
    return _tagged(response, edited)


@router.post("/publish", response_model=PlanEdited)
def publish_plan(
    plan_id: RowId, response: Response, session: SessionDep, settings: SettingsDep, who: EditorDep
) -> PlanEdited:
    edited = publish.publish_plan(session=session, settings=settings, plan_id=plan_id, editor=who)
    return _tagged(response, edited)


@router.get("/changes", response_model=list[PlanChangePublic])
def list_changes(
    plan_id: RowId, response: Response, session: SessionDep, principal: Reader
) -> object:
    version, changes = edits.list_changes(session=session, plan_id=plan_id, principal=principal)
    response.headers["ETag"] = f'"{version}"'
    return changes

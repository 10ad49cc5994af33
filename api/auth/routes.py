"""Key management, for admins; a scoped admin manages the keys of its own areas."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import service
from api.auth.models import ApiKeyCreate, ApiKeyIssued, ApiKeyPublic
from api.core.deps import Admin, RowId, SessionDep

router = APIRouter(prefix="/keys", tags=["keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyIssued)
def create_key(body: ApiKeyCreate, session: SessionDep, who: Admin) -> ApiKeyIssued:
    return service.issue_key(session=session, request=body, by=who)


@router.get("", response_model=list[ApiKeyPublic])
def list_keys(session: SessionDep, who: Admin) -> list:
    return service.list_keys(session=session, by=who)


@router.delete("/{key_id}", response_model=ApiKeyPublic)
def revoke_key(key_id: RowId, session: SessionDep, who: Admin) -> object:
    return service.revoke_key(session=session, key_id=key_id, by=who)

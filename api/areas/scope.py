"""A key's scope: the areas it may see and change. Every route resolves the area it works in
here, so the boundary is drawn in one place."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlmodel import Session, col, select

from api.areas.service import area_codes, area_settings, existing_area, get_area
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.errors import Forbidden, RuleBroken
from api.fleet.models import Depot, Vehicle


def in_scope(principal: Principal, area_code: str) -> bool:
    return not principal.areas or area_code in principal.areas


def check_scope(principal: Principal, area_code: str) -> None:
    """403 unless the key's scope holds the area."""
    if not in_scope(principal, area_code):
        raise Forbidden(
            f"area {area_code} is outside this key's scope ({', '.join(principal.areas)})",
            rule="area_scope",
        )


def visible(*, session: Session, principal: Principal) -> list[str]:
    """The areas a key sees, in code order: its scope, or every area for a chain-wide key."""
    codes = area_codes(session=session)
    return [code for code in codes if in_scope(principal, code)]


def resolve_area(*, session: Session, principal: Principal, area: str | None) -> str:
    """The one area a request works in.

    Named: it must exist and be in scope. Not named: the key's only area, or the chain's
    only area, so a single store never names one; otherwise the caller must say which.
    """
    if area is not None:
        check_scope(principal, area)
        # A request naming an area that does not exist is the caller's error, named as a body's
        # unknown area is: a 422 on `area`, not a 404 of the resource asked for.
        return existing_area(session=session, code=area)
    if len(principal.areas) == 1:
        return principal.areas[0]
    seen = visible(session=session, principal=principal)
    if len(seen) == 1:
        return seen[0]
    raise RuleBroken(
        f"name the area: this key sees {len(seen)} ({', '.join(seen)})",
        field="area",
        rule="area_required",
    )


def resolve_areas(*, session: Session, principal: Principal, area: str | None) -> tuple[str, ...]:
    """The areas a list or report covers: the one named, or all the key sees."""
    if area is not None:
        return (resolve_area(session=session, principal=principal, area=area),)
    return tuple(visible(session=session, principal=principal))


def local_settings(*, session: Session, settings: ServiceSettings, area: str) -> ServiceSettings:
    return area_settings(settings, get_area(session=session, code=area))


def vehicle_area(*, session: Session, vehicle_code: str) -> str | None:
    """The area of a vehicle, through its depot; None for an unknown vehicle."""
    row = session.exec(
        select(Depot.area_code)
        .join(Vehicle, col(Vehicle.depot_code) == col(Depot.code))
        .where(Vehicle.code == vehicle_code)
    ).first()
    return row


AreaQuery = Annotated[
    str | None,
    Query(
        max_length=32,
        description="planning area; may be left out when the key or the chain has only one",
    ),
]

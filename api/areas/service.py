"""Areas: creating and changing them, the settings in force in each, and which one serves
an address."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.areas.models import OVERRIDES, Area, AreaCreate, AreaPublic, AreaUpdate
from api.core.config import ServiceSettings
from api.core.errors import Conflict, NotFound, RuleBroken
from api.fleet.models import Depot
from optimizer.settings import InstallType


def overrides_of(area: Area) -> dict[str, Any]:
    """The chain settings this area sets differently, by name."""
    found = {name: getattr(area, name) for name in OVERRIDES if getattr(area, name) is not None}
    return {**found, "timezone": area.timezone}


def _extract_path(settings: ServiceSettings, name: str) -> str:
    return str(Path(settings.osm_dir) / name)


def area_settings(settings: ServiceSettings, area: Area) -> ServiceSettings:
    """The chain's settings with the area's own values in force.

    Copied without re-validation: the area's values were validated against the chain's when
    they were stored (`_checked`), and this runs on every request.
    """
    update = overrides_of(area)
    if area.osm_extract is not None:
        update["osm_file"] = _extract_path(settings, area.osm_extract)
    if "install_types" in update:
        raw = update["install_types"]
        update["install_types"] = {n: InstallType.model_validate(k) for n, k in raw.items()}
    return settings.model_copy(update=update)


def _checked(settings: ServiceSettings, area: Area) -> None:
    """Refuse an area whose settings, merged with the chain's, break a settings rule."""
    merged = {**settings.model_dump(), **overrides_of(area)}
    if area.osm_extract is not None:
        if not Path(_extract_path(settings, area.osm_extract)).is_file():
            raise RuleBroken(
                f"area {area.code}: no extract named {area.osm_extract} in the chain's "
                "extract folder (DISPATCH_OSM_DIR)",
                field="osm_extract",
            )
        merged["osm_file"] = _extract_path(settings, area.osm_extract)
    if merged["matrix_provider"] == "osm" and not Path(merged["osm_file"]).is_file():
        raise RuleBroken(
            f"area {area.code}: the road provider needs a city extract; name one in osm_extract",
            field="osm_extract",
        )
    try:
        type(settings).model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "area"
        raise RuleBroken(f"area {area.code}: {first['msg']}", field=field or None) from None


def get_area(*, session: Session, code: str) -> Area:
    area = session.get(Area, code)
    if area is None:
        raise NotFound(f"area {code} not found")
    return area


def list_areas(*, session: Session, codes: tuple[str, ...] | None = None) -> list[Area]:
    query = select(Area).order_by(col(Area.code))
    if codes is not None:
        query = query.where(col(Area.code).in_(codes))
    return list(session.exec(query))


def area_codes(*, session: Session) -> list[str]:
    return list(session.exec(select(Area.code).order_by(col(Area.code))))


def create_area(*, session: Session, settings: ServiceSettings, request: AreaCreate) -> Area:
    if session.get(Area, request.code) is not None:
        raise Conflict(f"area {request.code} already exists", field="code")
    data = request.model_dump(mode="json", exclude_none=True)
    area = Area.model_validate({"timezone": settings.timezone, **data})
    area.install_types = data.get("install_types")
    _checked(settings, area)
    session.add(area)
    session.commit()
    return area


def update_area(
    *, session: Session, settings: ServiceSettings, code: str, request: AreaUpdate
) -> Area:
    area = get_area(session=session, code=code)
    data = request.model_dump(mode="json", exclude_unset=True)
    for name, value in request.model_dump(exclude_unset=True).items():
        setattr(area, name, data[name] if name == "install_types" else value)
    for required in ("name", "timezone"):
        if getattr(area, required) is None:
            raise RuleBroken(f"{required} cannot be removed from an area", field=required)
    _checked(settings, area)
    session.add(area)
    session.commit()
    return area


def public(*, session: Session, settings: ServiceSettings, area: Area) -> AreaPublic:
    local = area_settings(settings, area)
    depots = session.exec(
        select(Depot.code).where(Depot.area_code == area.code).order_by(col(Depot.code))
    )
    values = {name: getattr(local, name) for name in OVERRIDES}
    return AreaPublic(
        code=area.code,
        name=area.name,
        city=area.city,
        timezone=area.timezone,
        overrides=[name for name in OVERRIDES if getattr(area, name) is not None],
        osm_extract=area.osm_extract,
        depots=list(depots),
        **values,
    )


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, a)))


def serving_area(*, session: Session, settings: ServiceSettings, lat: float, lon: float) -> str:
    """The area of the depot nearest the address by road estimate, within the areas' reach.

    Straight line × the detour factor ranks depots the same way the planner's default
    travel times do; an address farther than `area_reach_km` from every depot is served by
    no area, and that is the caller's error, naming `area`.
    """
    best: tuple[float, str] | None = None
    for depot in session.exec(select(Depot)):
        metres = _metres(depot.lat, depot.lon, lat, lon) * settings.road_detour_factor
        if best is None or (metres, depot.area_code) < best:
            best = (metres, depot.area_code)
    if best is None or best[0] > settings.area_reach_km * 1000:
        raise RuleBroken(
            f"no area serves ({lat:.5f}, {lon:.5f}): no depot within "
            f"{settings.area_reach_km:g} km by road; name the area",
            field="area",
            rule="area_reach",
        )
    return best[1]


def only_area(*, session: Session) -> str:
    """The chain's one area: a single store never names it. With several, the caller must."""
    codes = session.exec(select(Area.code).limit(2)).all()
    if len(codes) != 1:
        raise RuleBroken("name the area: the chain has several", field="area", rule="area_required")
    return codes[0]


def existing_area(*, session: Session, code: str | None, field: str = "area") -> str:
    """A named area that exists (422 naming the field otherwise), or the only one."""
    if code is None:
        return only_area(session=session)
    if session.get(Area, code) is None:
        raise RuleBroken(f"area {code} does not exist", field=field, rule="area_unknown")
    return code


def order_area(
    *, session: Session, settings: ServiceSettings, named: str | None, lat: float, lon: float
) -> str:
    """The area an order belongs to: the one it names, else the chain's only one, else the
    one whose depot serves the address at the least travel (a single store keeps taking
    orders before its depots are set up, as it always did)."""
    if named is not None:
        return existing_area(session=session, code=named)
    codes = session.exec(select(Area.code).limit(2)).all()
    if len(codes) == 1:
        return codes[0]
    return serving_area(session=session, settings=settings, lat=lat, lon=lon)

"""Fleet bookkeeping: skills, depots, vehicles, staff and daily crews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from api.areas.scope import check_scope, local_settings, vehicle_area
from api.areas.service import existing_area
from api.auth.service import Principal
from api.core.config import ServiceSettings
from api.core.crud import apply_update, get_or_404, save
from api.core.errors import RuleBroken
from api.core.roads import check_on_the_roads
from api.fleet.models import (
    CrewMember,
    CrewMemberCreate,
    CrewMemberPublic,
    Depot,
    DepotCreate,
    DepotUpdate,
    Skill,
    SkillCreate,
    Staff,
    StaffCreate,
    StaffUpdate,
    Vehicle,
    VehicleCreate,
    VehiclePublic,
    VehicleUpdate,
)
from optimizer.settings import DispatchSettings


def known_skills(*, session: Session, skills: Iterable[str], field: str = "skills") -> list[str]:
    wanted = sorted(set(skills))
    stored = set(session.exec(select(Skill.name).where(Skill.name.in_(wanted))))  # type: ignore[attr-defined]
    unknown = [name for name in wanted if name not in stored]
    if unknown:
        raise RuleBroken(
            f"unknown skill {unknown[0]!r}; create it under /skills first", field=field
        )
    return wanted


def create_skill(*, session: Session, skill: SkillCreate) -> Skill:
    return save(session, Skill.model_validate(skill), what=f"skill {skill.name!r}")


def list_skills(*, session: Session) -> list[Skill]:
    return list(session.exec(select(Skill).order_by(Skill.name)))


def home_area(
    *, session: Session, principal: Principal, code: str | None, field: str = "area_code"
) -> str:
    """The area a new depot or person belongs to: named (in scope, existing), else the key's
    only area, else the chain's only one."""
    if code is not None:
        check_scope(principal, code)
    elif len(principal.areas) == 1:
        code = principal.areas[0]
    area = existing_area(session=session, code=code, field=field)
    check_scope(principal, area)
    return area


def create_depot(
    *, session: Session, settings: ServiceSettings, depot: DepotCreate, principal: Principal
) -> Depot:
    area = home_area(session=session, principal=principal, code=depot.area_code)
    local = local_settings(session=session, settings=settings, area=area)
    check_on_the_roads(local, lat=depot.lat, lon=depot.lon)
    row = Depot.model_validate(depot, update={"area_code": area})
    return save(session, row, what=f"depot {depot.code!r}")


def list_depots(*, session: Session, areas: Sequence[str]) -> list[Depot]:
    query = select(Depot).where(col(Depot.area_code).in_(areas))
    return list(session.exec(query.order_by(col(Depot.code))))


def update_depot(
    *,
    session: Session,
    settings: ServiceSettings,
    code: str,
    update: DepotUpdate,
    principal: Principal,
) -> Depot:
    depot = get_or_404(session, Depot, "depot", code=code)
    check_scope(principal, depot.area_code)
    apply_update(depot, update)
    local = local_settings(session=session, settings=settings, area=depot.area_code)
    check_on_the_roads(local, lat=depot.lat, lon=depot.lon)
    _hours_in_order(depot.opens, depot.closes, "closes")
    return save(session, depot, what=f"depot {code!r}")


def _hours_in_order(start: dt.time, end: dt.time, field: str) -> None:
    # An update may move one end only, so the pair is re-checked on the merged row.
    if end <= start:
        raise RuleBroken(f"{field} must be after the start ({start:%H:%M})", field=field)


def _capacities_bounded(settings: DispatchSettings, vehicle: VehicleCreate | VehicleUpdate) -> None:
    """A truck of 1e308 kg is a typing error, and would stop the planning of every day."""
    bounds = (
        ("weight_kg", vehicle.weight_kg, settings.vehicle_weight_max_kg),
        ("volume_m3", vehicle.volume_m3, settings.vehicle_volume_max_m3),
        ("cash_cap_cny", vehicle.cash_cap_cny, settings.order_cash_max_cny),
    )
    for field, value, bound in bounds:
        if value is not None and value > bound:
            raise RuleBroken(f"{field}: must be at most {bound:,}", field=field, rule="bounds")


def _depot_in_scope(session: Session, principal: Principal, code: str) -> Depot:
    depot = get_or_404(session, Depot, "depot", code=code)
    check_scope(principal, depot.area_code)
    return depot


def vehicle_public(vehicle: Vehicle, area_code: str) -> VehiclePublic:
    return VehiclePublic.model_validate(vehicle, update={"area_code": area_code})


def create_vehicle(
    *, session: Session, settings: DispatchSettings, vehicle: VehicleCreate, principal: Principal
) -> VehiclePublic:
    _capacities_bounded(settings, vehicle)
    depot = _depot_in_scope(session, principal, vehicle.depot_code)
    row = Vehicle.model_validate(vehicle)
    row.skills = known_skills(session=session, skills=vehicle.skills)
    return vehicle_public(save(session, row, what=f"vehicle {vehicle.code!r}"), depot.area_code)


def list_vehicles(
    *, session: Session, areas: Sequence[str], active_only: bool = False
) -> list[VehiclePublic]:
    query = (
        select(Vehicle, Depot.area_code)
        .join(Depot, col(Depot.code) == col(Vehicle.depot_code))
        .where(col(Depot.area_code).in_(areas))
        .order_by(col(Vehicle.code))
    )
    if active_only:
        query = query.where(Vehicle.active == True)  # noqa: E712 (SQL expression)
    return [vehicle_public(vehicle, area) for vehicle, area in session.exec(query)]


def update_vehicle(
    *,
    session: Session,
    settings: DispatchSettings,
    code: str,
    update: VehicleUpdate,
    principal: Principal,
) -> VehiclePublic:
    """Moving a vehicle to another area's depot needs both areas in the key's scope."""
    _capacities_bounded(settings, update)
    vehicle = get_or_404(session, Vehicle, "vehicle", code=code)
    depot = _depot_in_scope(session, principal, vehicle.depot_code)
    if update.depot_code is not None:
        depot = _depot_in_scope(session, principal, update.depot_code)
    if update.skills is not None:
        update.skills = known_skills(session=session, skills=update.skills)
    apply_update(vehicle, update)
    _hours_in_order(vehicle.shift_start, vehicle.shift_end, "shift_end")
    return vehicle_public(save(session, vehicle, what=f"vehicle {code!r}"), depot.area_code)


def create_staff(*, session: Session, staff: StaffCreate, principal: Principal) -> Staff:
    area = home_area(session=session, principal=principal, code=staff.area_code)
    row = Staff.model_validate(staff, update={"area_code": area})
    row.skills = known_skills(session=session, skills=staff.skills)
    return save(session, row, what="staff member")


def list_staff(*, session: Session, areas: Sequence[str]) -> list[Staff]:
    query = select(Staff).where(col(Staff.area_code).in_(areas))
    return list(session.exec(query.order_by(col(Staff.id))))


def update_staff(
    *, session: Session, staff_id: int, update: StaffUpdate, principal: Principal
) -> Staff:
    staff = get_or_404(session, Staff, "staff member", id=staff_id)
    check_scope(principal, staff.area_code)
    if update.skills is not None:
        update.skills = known_skills(session=session, skills=update.skills)
    return save(session, apply_update(staff, update), what="staff member")


def assign_crew_member(
    *, session: Session, member: CrewMemberCreate, principal: Principal
) -> CrewMemberPublic:
    """A crew is of one area: the vehicle's depot and the person both in it, and in scope."""
    get_or_404(session, Vehicle, "vehicle", code=member.vehicle_code)
    area = vehicle_area(session=session, vehicle_code=member.vehicle_code)
    assert area is not None  # every vehicle has a depot, every depot an area
    check_scope(principal, area)
    staff = get_or_404(session, Staff, "staff member", id=member.staff_id)
    check_scope(principal, staff.area_code)
    if staff.area_code != area:
        raise RuleBroken(
            f"staff member {staff.id} works in area {staff.area_code}, vehicle "
            f"{member.vehicle_code} in {area}: a crew never crosses areas",
            field="staff_id",
            rule="same_area",
        )
    row = save(
        session,
        CrewMember.model_validate(member),
        what=f"staff member {member.staff_id} on {member.date} (already on a vehicle that day)",
    )
    return CrewMemberPublic(**row.model_dump(), name=staff.name, phone=staff.phone)


def crews_on(
    *, session: Session, date: dt.date, areas: Sequence[str] | None = None
) -> dict[str, list[CrewMemberPublic]]:
    """Vehicle code -> its crew on that date; of the vehicles of `areas` when given."""
    query = (
        select(CrewMember, Staff)
        .join(Staff, CrewMember.staff_id == Staff.id)  # type: ignore[arg-type]
        .where(CrewMember.date == date)
        .order_by(CrewMember.vehicle_code, col(CrewMember.id))
    )
    if areas is not None:
        query = query.where(col(Staff.area_code).in_(areas))
    crews: dict[str, list[CrewMemberPublic]] = {}
    for member, staff in session.exec(query):
        crews.setdefault(member.vehicle_code, []).append(
            CrewMemberPublic(**member.model_dump(), name=staff.name, phone=staff.phone)
        )
    return crews


def remove_crew_member(*, session: Session, member_id: int, principal: Principal) -> None:
    member = get_or_404(session, CrewMember, "crew member", id=member_id)
    area = vehicle_area(session=session, vehicle_code=member.vehicle_code)
    assert area is not None
    check_scope(principal, area)
    session.delete(member)
    session.commit()

"""Fleet bookkeeping: skills, depots, vehicles, staff and daily crews."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session, col, select

from api.areas.service import existing_area
from api.core.crud import apply_update, get_or_404, save
from api.core.errors import RuleBroken
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


def create_depot(*, session: Session, depot: DepotCreate) -> Depot:
    area = existing_area(session=session, code=depot.area_code, field="area_code")
    row = Depot.model_validate(depot, update={"area_code": area})
    return save(session, row, what=f"depot {depot.code!r}")


def list_depots(*, session: Session) -> list[Depot]:
    return list(session.exec(select(Depot).order_by(Depot.code)))


def update_depot(*, session: Session, code: str, update: DepotUpdate) -> Depot:
    depot = apply_update(get_or_404(session, Depot, "depot", code=code), update)
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


def create_vehicle(
    *, session: Session, settings: DispatchSettings, vehicle: VehicleCreate
) -> Vehicle:
    _capacities_bounded(settings, vehicle)
    get_or_404(session, Depot, "depot", code=vehicle.depot_code)
    row = Vehicle.model_validate(vehicle)
    row.skills = known_skills(session=session, skills=vehicle.skills)
    return save(session, row, what=f"vehicle {vehicle.code!r}")


def list_vehicles(*, session: Session, active_only: bool = False) -> list[Vehicle]:
    query = select(Vehicle).order_by(Vehicle.code)
    if active_only:
        query = query.where(Vehicle.active == True)  # noqa: E712 (SQL expression)
    return list(session.exec(query))


def update_vehicle(
    *, session: Session, settings: DispatchSettings, code: str, update: VehicleUpdate
) -> Vehicle:
    _capacities_bounded(settings, update)
    vehicle = get_or_404(session, Vehicle, "vehicle", code=code)
    if update.depot_code is not None:
        get_or_404(session, Depot, "depot", code=update.depot_code)
    if update.skills is not None:
        update.skills = known_skills(session=session, skills=update.skills)
    apply_update(vehicle, update)
    _hours_in_order(vehicle.shift_start, vehicle.shift_end, "shift_end")
    return save(session, vehicle, what=f"vehicle {code!r}")


def create_staff(*, session: Session, staff: StaffCreate) -> Staff:
    area = existing_area(session=session, code=staff.area_code, field="area_code")
    row = Staff.model_validate(staff, update={"area_code": area})
    row.skills = known_skills(session=session, skills=staff.skills)
    return save(session, row, what="staff member")


def list_staff(*, session: Session) -> list[Staff]:
    return list(session.exec(select(Staff).order_by(col(Staff.id))))


def update_staff(*, session: Session, staff_id: int, update: StaffUpdate) -> Staff:
    staff = get_or_404(session, Staff, "staff member", id=staff_id)
    if update.skills is not None:
        update.skills = known_skills(session=session, skills=update.skills)
    return save(session, apply_update(staff, update), what="staff member")


def assign_crew_member(*, session: Session, member: CrewMemberCreate) -> CrewMemberPublic:
    get_or_404(session, Vehicle, "vehicle", code=member.vehicle_code)
    staff = get_or_404(session, Staff, "staff member", id=member.staff_id)
    row = save(
        session,
        CrewMember.model_validate(member),
        what=f"staff member {member.staff_id} on {member.date} (already on a vehicle that day)",
    )
    return CrewMemberPublic(**row.model_dump(), name=staff.name, phone=staff.phone)


def crews_on(*, session: Session, date: dt.date) -> dict[str, list[CrewMemberPublic]]:
    """Vehicle code -> its crew on that date."""
    rows = session.exec(
        select(CrewMember, Staff)
        .join(Staff, CrewMember.staff_id == Staff.id)  # type: ignore[arg-type]
        .where(CrewMember.date == date)
        .order_by(CrewMember.vehicle_code, col(CrewMember.id))
    )
    crews: dict[str, list[CrewMemberPublic]] = {}
    for member, staff in rows:
        crews.setdefault(member.vehicle_code, []).append(
            CrewMemberPublic(**member.model_dump(), name=staff.name, phone=staff.phone)
        )
    return crews


def remove_crew_member(*, session: Session, member_id: int) -> None:
    session.delete(get_or_404(session, CrewMember, "crew member", id=member_id))
    session.commit()

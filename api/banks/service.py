"""Bank branches: kept per area by its desk; planning reads the ones in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from api.areas.scope import check_scope, local_settings
from api.auth.service import Principal
from api.banks.models import BankBranch, BankBranchCreate, BankBranchUpdate
from api.core.config import ServiceSettings
from api.core.crud import apply_update, get_or_404, save
from api.core.errors import RuleBroken
from api.core.roads import check_on_the_roads
from api.fleet.service import home_area
from optimizer.settings import BankBranchSetting, DispatchSettings


def create_bank(
    *, session: Session, settings: ServiceSettings, bank: BankBranchCreate, principal: Principal
) -> BankBranch:
    area = home_area(session=session, principal=principal, code=bank.area_code)
    local = local_settings(session=session, settings=settings, area=area)
    check_on_the_roads(local, lat=bank.lat, lon=bank.lon)
    row = BankBranch.model_validate(bank, update={"area_code": area})
    _deposit_fits(row)
    return save(session, row, what=f"bank branch {bank.code!r}")


def list_banks(
    *, session: Session, areas: Sequence[str], active_only: bool = False
) -> list[BankBranch]:
    query = select(BankBranch).where(col(BankBranch.area_code).in_(areas))
    if active_only:
        query = query.where(col(BankBranch.active).is_(True))
    return list(session.exec(query.order_by(col(BankBranch.code))))


def update_bank(
    *,
    session: Session,
    settings: ServiceSettings,
    code: str,
    update: BankBranchUpdate,
    principal: Principal,
) -> BankBranch:
    bank = get_or_404(session, BankBranch, "bank branch", code=code)
    check_scope(principal, bank.area_code)
    apply_update(bank, update)
    local = local_settings(session=session, settings=settings, area=bank.area_code)
    check_on_the_roads(local, lat=bank.lat, lon=bank.lon)
    # A PATCH may move one end of the hours only, so the merged row is checked again.
    if bank.closes <= bank.opens:
        raise RuleBroken(f"closes must be after opens ({bank.opens:%H:%M})", field="closes")
    _deposit_fits(bank)
    return save(session, bank, what=f"bank branch {code!r}")


def _deposit_fits(bank: BankBranch) -> None:
    """A deposit must fit inside the hours, or the planner could never use the branch."""
    open_minutes = _minutes(bank.closes) - _minutes(bank.opens)
    if bank.service_minutes > open_minutes:
        raise RuleBroken(
            f"a deposit of {bank.service_minutes} min does not fit in the hours "
            f"{bank.opens:%H:%M}–{bank.closes:%H:%M}",
            field="service_minutes",
            rule="deposit_fits",
        )


def _minutes(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


def area_banks(
    *, session: Session, settings: DispatchSettings, area: str
) -> list[BankBranchSetting]:
    """Where the area's crews deposit: its active branches, else the chain's default; none
    when the area's `settings` (local_settings) switch deposits off."""
    if not settings.deposits_enabled:
        return []
    own = list_banks(session=session, areas=(area,), active_only=True)
    if not own:
        return list(settings.bank_branches)
    return [BankBranchSetting.model_validate(bank, from_attributes=True) for bank in own]

"""The business constants of dispatch in one settings object, overridable by environment.

Every rule that a store manager could change (slot hours, lead time, the cash cap, the
planning clock) lives here and nowhere else; read with the DISPATCH_ prefix, for example
DISPATCH_CASH_CAP_CNY=40000.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Urban truck speeds by OpenStreetMap road class (`_link` roads take their class's speed).
DEFAULT_ROAD_SPEEDS_KMH: dict[str, float] = {
    "motorway": 80.0,
    "trunk": 60.0,
    "primary": 40.0,
    "secondary": 35.0,
    "tertiary": 30.0,
    "unclassified": 25.0,
    "residential": 20.0,
    "living_street": 8.0,
    "service": 10.0,
}


class InstallType(BaseModel):
    """How long installing one product type takes on site, and who may do it."""

    minutes: int = Field(gt=0, le=8 * 60)
    skill: str = ""  # a technician must hold it; empty: any technician


class BankBranchSetting(BaseModel):
    """A bank branch where crews may deposit cash mid-route (delivery rules, art. 7)."""

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    service_minutes: int = Field(default=15, ge=1, le=120)

    @model_validator(mode="after")
    def _deposit_fits(self) -> BankBranchSetting:
        if seconds_of_day(self.closes) - seconds_of_day(self.opens) < self.service_minutes * 60:
            raise ValueError(f"bank {self.code}: closes must leave service_minutes after opens")
        return self


# Site times of the store's installation price list; a kitchen takes a technician half a day.
DEFAULT_INSTALL_TYPES = {
    "cabinet": InstallType(minutes=240, skill="cabinet_install"),
    "countertop": InstallType(minutes=120, skill="stone_countertop"),
    "sanitary": InstallType(minutes=90, skill="sanitary_install"),
    "floor": InstallType(minutes=240, skill="floor_install"),
    "gas_appliance": InstallType(minutes=60, skill="gas_appliance"),
    "appliance": InstallType(minutes=45),
}


class Part(BaseModel):
    """A spare part on the store's price list, charged per piece outside the warranty."""

    name: str = Field(min_length=1, max_length=100)
    price_cny: Decimal = Field(ge=0, max_digits=9, decimal_places=2)


# 保修期 in months from the purchase date, by product type (the keys of install_types, and
# loose furniture). The installer rules give a water purifier a year (000, 保修与维护);
# the rest is the store's own choice.
DEFAULT_WARRANTY_MONTHS = {
    "furniture": 12,
    "cabinet": 24,
    "countertop": 24,
    "sanitary": 36,
    "floor": 12,
    "gas_appliance": 12,
    "appliance": 12,
}
# 收费标准 (after-sales rules, item 10): labour per ticket service type, and the parts list.
DEFAULT_LABOUR_CNY = {
    "install": Decimal("150"),
    "start_up": Decimal("80"),
    "repair": Decimal("120"),
    "maintenance": Decimal("100"),
}
DEFAULT_PARTS = {
    "HINGE": Part(name="铰链", price_cny=Decimal("15")),
    "SLIDE": Part(name="抽屉滑轨", price_cny=Decimal("45")),
    "HANDLE": Part(name="拉手", price_cny=Decimal("20")),
    "GAS-STRUT": Part(name="气撑", price_cny=Decimal("30")),
    "CARTRIDGE": Part(name="阀芯", price_cny=Decimal("60")),
    "HOSE": Part(name="进水软管", price_cny=Decimal("25")),
    "SEAL": Part(name="密封圈", price_cny=Decimal("8")),
    "MOTOR-HOOD": Part(name="烟机风机电机", price_cny=Decimal("260")),
}
Months = Annotated[int, Field(ge=0, le=600)]
Price = Annotated[Decimal, Field(ge=0, max_digits=9, decimal_places=2)]


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    morning_start: time = time(8, 0)
    morning_end: time = time(12, 0)
    afternoon_start: time = time(13, 0)
    afternoon_end: time = time(18, 0)

    booking_lead_days: int = Field(default=3, ge=0)
    # No order, visit or plan further ahead than this: a date years away is a typing error.
    booking_horizon_days: int = Field(default=90, ge=1)
    planning_time: time = time(15, 0)
    publish_cutoff: time = time(17, 0)
    customer_notice_by: time = time(19, 0)
    timezone: str = "Asia/Shanghai"

    cash_cap_cny: int = Field(default=50_000, gt=0)
    # Above the cap a crew of at least `deposit_min_crew` banks its cash mid-route; an area
    # may turn deposits off. Areas with no branches of their own use `bank_branches`
    # (JSON in DISPATCH_BANK_BRANCHES): empty, since a chain's branches are each city's own.
    deposits_enabled: bool = True
    deposit_min_crew: int = Field(default=2, ge=1, le=6)
    bank_branches: list[BankBranchSetting] = Field(default_factory=list)
    install_within_days: int = Field(default=2, ge=1)
    # Product types that need installing after delivery; JSON in DISPATCH_INSTALL_TYPES.
    install_types: dict[str, InstallType] = Field(
        default_factory=lambda: dict(DEFAULT_INSTALL_TYPES)
    )
    install_reminder_by: time = time(17, 0)
    # Paid and free service; JSON in DISPATCH_WARRANTY_MONTHS, DISPATCH_LABOUR_CNY and
    # DISPATCH_PARTS. A type, service or part left out of them cannot be quoted.
    warranty_months: dict[str, Months] = Field(
        default_factory=lambda: dict(DEFAULT_WARRANTY_MONTHS)
    )
    labour_cny: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_LABOUR_CNY))
    parts: dict[str, Part] = Field(default_factory=lambda: dict(DEFAULT_PARTS))

    # What one order may carry, checked where it comes in: past these it is a typing error
    # (or worse), not an order. The largest goods are stone slabs and tile pallets, the
    # largest counts tiles and floor boards, the largest cash a whole kitchen paid on delivery.
    order_cash_max_cny: int = Field(default=1_000_000, gt=0)
    item_weight_max_kg: int = Field(default=5_000, gt=0)
    item_volume_max_m3: int = Field(default=50, gt=0)
    item_quantity_max: int = Field(default=10_000, gt=0)
    order_items_max: int = Field(default=200, gt=0)
    service_minutes_max: int = Field(default=8 * 60, gt=0)
    # And what one vehicle may: a 49-tonne lorry carries less, a furniture box van 40 m³.
    vehicle_weight_max_kg: int = Field(default=100_000, gt=0)
    vehicle_volume_max_m3: int = Field(default=500, gt=0)

    # Take-back repairs (客户商品进出登记簿): goods held longer than this show on the board.
    goods_overdue_days: int = Field(default=15, ge=1, le=365)
    # A take-back repair out of warranty is charged the repair card's hours at this rate,
    # plus its parts from `parts` (api.repairs.charge says why not `labour_cny`).
    repair_labour_cny_per_hour: int = Field(default=80, ge=0, le=10_000)

    road_detour_factor: float = Field(default=1.3, ge=1.0)
    average_speed_kmh: float = Field(default=25.0, gt=0)
    matrix_provider: str = "great_circle"  # or "osrm", or "osm" (roads of `osm_file`)
    osrm_url: str = ""
    # The road-network provider (optimizer.osm): the city's extract, how far a point may lie
    # from a drivable road, where the prepared graph is cached, speeds by road class, and the
    # truck the graph is built for (maxweight / maxheight tags are held against it).
    osm_file: str = ""
    # The folder of a chain's city extracts: an area on roads of its own names its file here
    # (a bare file name, so an area's desk can never point the service at another path).
    osm_dir: str = "osm"
    osm_snap_limit_m: float = Field(default=500.0, gt=0)
    osm_cache_dir: str = ".cache/osm"
    road_speeds_kmh: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_ROAD_SPEEDS_KMH))
    truck_weight_t: float = Field(default=3.5, gt=0)
    truck_height_m: float = Field(default=3.2, gt=0)
    geocoder: str = ""  # a geopy geocoder name, e.g. "nominatim"; empty means never geocode
    geocoder_user_agent: str = "dispatch"

    @model_validator(mode="after")
    def _osm_file_exists(self) -> DispatchSettings:
        # Said at start, not at the first plan: the road provider reads it per planning job.
        if self.matrix_provider == "osm" and not Path(self.osm_file).is_file():
            raise ValueError(f"osm_file: no OpenStreetMap extract at {self.osm_file!r}")
        return self

    @model_validator(mode="after")
    def _slots_in_order(self) -> DispatchSettings:
        if not self.morning_start < self.morning_end <= self.afternoon_start < self.afternoon_end:
            raise ValueError(
                "slot hours must be ordered: morning_start < morning_end <= "
                "afternoon_start < afternoon_end"
            )
        return self

    def slot_window(self, slot: str) -> tuple[int, int]:
        """A slot name as a (start, end) window in seconds after midnight."""
        if slot == "morning":
            return seconds_of_day(self.morning_start), seconds_of_day(self.morning_end)
        if slot == "afternoon":
            return seconds_of_day(self.afternoon_start), seconds_of_day(self.afternoon_end)
        raise ValueError(f"slot: must be 'morning' or 'afternoon', got {slot!r}")


def seconds_of_day(moment: time) -> int:
    """A wall-clock time as seconds after midnight, the optimizer's unit of time."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@lru_cache
def get_settings() -> DispatchSettings:
    return DispatchSettings()

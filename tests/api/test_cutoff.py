"""The publishing cut-off: on the day before the plan's date, in its area's time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from plan_helpers import app_at, engine_of, if_match, seed_day, store_plan
from sqlmodel import Session

from api.areas.models import DEFAULT_AREA, Area
from api.core.config import ServiceSettings
from api.plans.cutoff import area_cutoff, cutoff_of, late_warning, minutes_late
from optimizer.settings import DispatchSettings

ZONE = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 27)
EVE = DAY - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("published_at", "late"),
    [
        (dt.datetime.combine(EVE, dt.time(16, 59), ZONE), 0),  # a minute to spare
        (dt.datetime.combine(EVE, dt.time(17, 0), ZONE), 0),  # on the stroke of the cut-off
        (dt.datetime.combine(EVE, dt.time(17, 40, 59), ZONE), 40),  # whole minutes count
        (dt.datetime.combine(DAY, dt.time(7, 0), ZONE), 14 * 60),  # on the morning itself
        (dt.datetime(2026, 11, 26, 9, 30), 30),  # stored naive instants are UTC: 17:30 local
        (dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC), 30),  # the same instant, aware
    ],
)
def test_minutes_late_counts_from_the_cut_off_of_the_day_before(
    published_at: dt.datetime, late: int
) -> None:
    """Whole minutes after 17:00 on the eve, in the store's zone; none before."""
    assert minutes_late(DispatchSettings(), DAY, published_at) == late


def test_the_warning_names_the_delay_and_follows_the_setting() -> None:
    """A later cut-off in the settings makes the publish timely; a late one says how late."""
    moment = dt.datetime.combine(EVE, dt.time(17, 40), ZONE)
    later = DispatchSettings(publish_cutoff=dt.time(18, 0))
    assert late_warning(later, DAY, minutes_late(later, DAY, moment)) == ""
    usual = DispatchSettings()
    warning = late_warning(usual, DAY, minutes_late(usual, DAY, moment))
    assert "40 min after the 17:00 cut-off of 2026-11-26" in warning


@pytest.fixture
def stored_plan(
    settings: ServiceSettings, admin: dict[str, str]
) -> Iterator[tuple[TestClient, int]]:
    """The service with the seeded day of the default area stored as a draft plan."""
    with app_at(settings) as client:
        seed_day(client, admin)
        yield client, store_plan(client)


@pytest.mark.parametrize(
    ("change", "clock", "late"),
    [
        ({"publish_cutoff": "16:00"}, dt.time(16, 30), 30),  # the area's earlier cut-off
        ({"publish_cutoff": "18:00"}, dt.time(17, 40), 0),  # its later one: in time
        ({"timezone": "Asia/Urumqi"}, dt.time(18, 40), 0),  # 16:40 on the area's clock
        ({"timezone": "Asia/Urumqi"}, dt.time(19, 30), 30),  # 17:30 there
    ],
)
def test_publishing_is_late_by_the_cut_off_of_the_plans_area_on_its_clock(
    settings: ServiceSettings,
    admin: dict[str, str],
    stored_plan: tuple[TestClient, int],
    change: dict[str, str],
    clock: dt.time,
    late: int,
) -> None:
    """The area's own publish_cutoff and time zone decide whether its plan went out late."""
    client, plan_id = stored_plan
    answer = client.patch(f"/areas/{DEFAULT_AREA}", json=change, headers=admin)
    assert answer.status_code == 200, answer.text
    with app_at(settings, dt.datetime.combine(EVE, clock, ZONE)) as on_the_eve:
        headers = {**admin, **if_match(1)}
        published = on_the_eve.post(f"/plans/{plan_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    warnings = published.json()["warnings"]
    assert [f"{late} min after" in warning for warning in warnings] == ([True] if late else [])


def test_area_cutoff_takes_only_the_areas_cut_off_and_zone(client: TestClient) -> None:
    """An area's cut-off settings: its override and zone; the chain's cut-off where it has none."""
    engine = engine_of(client)
    with Session(engine) as session:
        area = session.get(Area, DEFAULT_AREA)
        assert area is not None
        area.timezone, area.planning_time = "Europe/Helsinki", dt.time(9, 0)
        session.add(area)
        session.commit()
        chain = ServiceSettings(publish_cutoff=dt.time(17, 30))
        local = area_cutoff(session=session, settings=chain, area=DEFAULT_AREA)
    assert (local.publish_cutoff, local.timezone) == (dt.time(17, 30), "Europe/Helsinki")
    assert local.planning_time == chain.planning_time  # the rest stays the caller's
    assert cutoff_of(local, DAY) == dt.datetime(2026, 11, 26, 15, 30, tzinfo=dt.UTC)

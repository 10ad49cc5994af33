"""Day files: JSON on disk to a Model for one date, with errors naming object and field."""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from optimizer.dayfile import Day, clock, load_day, read_day
from optimizer.settings import DispatchSettings

H = 3600
ON = date(2024, 6, 3)

DAY_FILE: dict[str, Any] = {
    "city": "Shanghai",
    "skills": ["assembly"],
    "depots": [{"id": "D1", "lat": 31.20, "lon": 121.40, "name": "Pudong"}],
    "vehicles": [
        {
            "id": "V1",
            "depot": "D1",
            "shift": ["08:00", "19:00"],
            "weight_kg": 1500,
            "volume_m3": 12,
            "crew": [{"name": "Li"}, {"name": "Wang"}, {"name": "Zhao"}],
        },
        {
            "id": "T1",
            "depot": "D1",
            "kind": "technician",
            "shift": ["09:00", "18:00"],
            "weight_kg": 50,
            "volume_m3": 0.5,
            "skills": ["assembly"],
        },
    ],
    "visits": [
        {
            "id": "a",
            "date": "2024-06-03",
            "lat": 31.21,
            "lon": 121.41,
            "slot": "morning",
            "customer": "Ms Chen",
            "items": [
                {"name": "sofa", "qty": 2, "weight_kg": 40.5, "volume_m3": 1.2},
                {"name": "lamp", "qty": 3, "weight_kg": 1.5, "volume_m3": 0.05},
            ],
        },
        {
            "id": "b",
            "date": "2024-06-03",
            "lat": 31.22,
            "lon": 121.43,
            "window": ["14:00", "16:00"],
            "service_min": 30,
        },
        {"id": "c", "date": "2024-06-04", "lat": 31.23, "lon": 121.45, "slot": "afternoon"},
    ],
}


@pytest.fixture(autouse=True)
def _no_dispatch_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from code only: no DISPATCH_* variable of the host leaks in."""
    for name in [n for n in os.environ if n.upper().startswith("DISPATCH_")]:
        monkeypatch.delenv(name)


def _write(tmp_path: Path, content: dict[str, Any]) -> Path:
    path = tmp_path / "day.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def _load(
    tmp_path: Path,
    content: dict[str, Any] | None = None,
    settings: DispatchSettings | None = None,
) -> Day:
    path = _write(tmp_path, DAY_FILE if content is None else content)
    return load_day(read_day(path), ON, settings or DispatchSettings())


def test_visits_of_other_dates_are_skipped(tmp_path: Path) -> None:
    """Only the visits dated `on` enter the problem; the whole fleet always does."""
    day = _load(tmp_path)
    assert [visit.id for visit in day.data.visits] == ["a", "b"]
    assert sorted(day.details) == ["a", "b"]
    assert [vehicle.id for vehicle in day.data.vehicles] == ["V1", "T1"]
    assert (day.city, day.date, day.data.num_nodes) == ("Shanghai", ON, 3)


@pytest.mark.parametrize(
    ("slot", "overrides", "window"),
    [
        ("morning", {}, (8 * H, 12 * H)),  # default morning 08:00-12:00
        ("afternoon", {}, (13 * H, 18 * H)),  # default afternoon 13:00-18:00
        # a store that opens later moves the morning slot start only
        ("morning", {"morning_start": time(9, 30)}, (9 * H + 1800, 12 * H)),
        # a custom afternoon slot
        (
            "afternoon",
            {"afternoon_start": time(12, 30), "afternoon_end": time(17, 0)},
            (12 * H + 1800, 17 * H),
        ),
    ],
)
def test_slot_maps_to_settings_window(
    tmp_path: Path, slot: str, overrides: dict[str, Any], window: tuple[int, int]
) -> None:
    """A named slot becomes the settings' window in seconds after midnight."""
    content = copy.deepcopy(DAY_FILE)
    content["visits"][0]["slot"] = slot
    day = _load(tmp_path, content, DispatchSettings(**overrides))
    visit = day.data.visits[day.data.visit_index("a")]
    assert (visit.tw_start, visit.tw_end) == window
    assert day.details["a"].slot == slot


def test_explicit_window_is_honoured(tmp_path: Path) -> None:
    """'window': ['14:00', '16:00'] becomes 14:00-16:00 in seconds and names the slot."""
    day = _load(tmp_path)
    visit = day.data.visits[day.data.visit_index("b")]
    assert (visit.tw_start, visit.tw_end) == (14 * H, 16 * H)
    assert visit.service_time == 30 * 60
    assert day.details["b"].slot == "14:00-16:00"


def test_weight_and_volume_are_sums_of_items(tmp_path: Path) -> None:
    """Visit weight and volume are sum(qty * item), in grams and cm3."""
    day = _load(tmp_path)
    visit = day.data.visits[day.data.visit_index("a")]
    assert visit.weight == 85_500  # 2 x 40.5 kg + 3 x 1.5 kg
    assert visit.volume == 2_550_000  # 2 x 1.2 m3 + 3 x 0.05 m3
    assert day.details["a"].items == ("2 × sofa", "3 × lamp")
    empty = day.data.visits[day.data.visit_index("b")]
    assert (empty.weight, empty.volume) == (0, 0)


def test_crew_size_is_number_of_crew_members(tmp_path: Path) -> None:
    """Crew size counts the listed members; a vehicle without a crew list counts one."""
    day = _load(tmp_path)
    sizes = {vehicle.id: vehicle.crew_size for vehicle in day.data.vehicles}
    assert sizes == {"V1": 3, "T1": 1}
    assert [member["name"] for member in day.crews["V1"]] == ["Li", "Wang", "Zhao"]
    assert day.crews["T1"] == ()


def test_banks_are_read_with_hours_and_service(tmp_path: Path) -> None:
    """A bank's hours and minutes at the counter become seconds; banks come after visits."""
    content = copy.deepcopy(DAY_FILE)
    bank = {"id": "B1", "lat": 31.2, "lon": 121.4, "hours": ["09:30", "16:00"], "service_min": 20}
    content["banks"] = [bank, {"id": "B2", "lat": 31.3, "lon": 121.5, "name": "ICBC"}]
    data = _load(tmp_path, content).data
    first, second = data.banks
    assert (first.id, first.opens, first.closes, first.service_time) == (
        "B1",
        9 * H + 1800,
        16 * H,
        1200,
    )
    assert (second.opens, second.closes, second.service_time, second.name) == (
        9 * H,
        17 * H,
        900,
        "ICBC",
    )
    assert (data.num_nodes, data.bank_node(0)) == (5, 3)


def _visit_a(content: dict[str, Any]) -> dict[str, Any]:
    visit: dict[str, Any] = content["visits"][0]
    return visit


def _vehicle_v1(content: dict[str, Any]) -> dict[str, Any]:
    vehicle: dict[str, Any] = content["vehicles"][0]
    return vehicle


@pytest.mark.parametrize(
    ("edit", "prefix"),
    [
        # a visit without latitude
        (lambda c: _visit_a(c).pop("lat"), "visit 'a': lat: required"),
        # a visit with latitude null counts as missing
        (lambda c: _visit_a(c).update(lat=None), "visit 'a': lat: required"),
        # a slot name that settings do not know
        (lambda c: _visit_a(c).update(slot="evening"), "visit 'a': slot: must be"),
        # neither slot nor window
        (lambda c: _visit_a(c).pop("slot"), "visit 'a': slot: required"),
        # an impossible clock time in a window
        (
            lambda c: _visit_a(c).update(window=["25:99", "16:00"]),
            "visit 'a': window: expected HH:MM, got '25:99'",
        ),
        # an impossible clock time in a vehicle shift
        (
            lambda c: _vehicle_v1(c).update(shift=["08:00", "19:75"]),
            "vehicle 'V1': shift: expected HH:MM, got '19:75'",
        ),
        # a vehicle based at a depot the file does not list
        (lambda c: _vehicle_v1(c).update(depot="D9"), "vehicle 'V1': depot: no depot 'D9'"),
        # a vehicle returning to a depot the file does not list
        (
            lambda c: _vehicle_v1(c).update(end_depot="D9"),
            "vehicle 'V1': end_depot: no depot 'D9'",
        ),
        # a depot without longitude
        (lambda c: c["depots"][0].pop("lon"), "depot 'D1': lon: required"),
        # a visit needing a skill the file does not declare
        (
            lambda c: _visit_a(c).update(skills=["plumbing"]),
            "visit 'a': skills: unknown skill 'plumbing'",
        ),
        # a visit pinned to a vehicle that is not in the fleet
        (lambda c: _visit_a(c).update(pinned_to="V9"), "visit 'a': pinned_to: no vehicle 'V9'"),
        # a file without the visits list
        (lambda c: c.pop("visits"), "day: visits: required"),
        # a bank without latitude
        (lambda c: c.update(banks=[{"id": "B1", "lon": 121.4}]), "bank 'B1': lat: required"),
        # a bank with one clock time for its hours
        (
            lambda c: c.update(banks=[{"id": "B1", "lat": 31.2, "lon": 121.4, "hours": ["09:00"]}]),
            "bank 'B1': hours: expected",
        ),
    ],
)
def test_errors_name_object_and_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], prefix: str
) -> None:
    """Bad day-file content raises ValueError starting with the object and the field."""
    content = copy.deepcopy(DAY_FILE)
    edit(content)
    with pytest.raises(ValueError, match="^" + re.escape(prefix)):
        _load(tmp_path, content)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"depots": [', "not valid JSON"),  # truncated JSON
        ("[1, 2, 3]", "expected a JSON object"),  # valid JSON but not an object
    ],
)
def test_read_day_rejects_bad_files(tmp_path: Path, text: str, message: str) -> None:
    """read_day raises ValueError naming the file for invalid or non-object JSON."""
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(str(path)) + ": " + message):
        read_day(path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00", 0),  # midnight
        ("08:00", 8 * H),  # a slot boundary
        ("7:05", 7 * H + 5 * 60),  # single-digit hour
        ("24:00", 24 * H),  # end of day, for closing times
    ],
)
def test_clock_parses_hh_mm(text: str, seconds: int) -> None:
    """clock turns 'HH:MM' into seconds after midnight."""
    assert clock(text, "depot 'D1': opens") == seconds


@pytest.mark.parametrize(
    "text",
    [
        "25:99",  # hour and minute both out of range
        "12:60",  # minute out of range
        "-1:00",  # negative hour
        "noon",  # not a time at all
        "8",  # no minutes
        "08:00:00",  # seconds are not part of the format
    ],
)
def test_clock_rejects_bad_times(text: str) -> None:
    """clock raises ValueError with the caller's object and field for bad times."""
    with pytest.raises(
        ValueError, match="^" + re.escape(f"depot 'D1': opens: expected HH:MM, got {text!r}")
    ):
        clock(text, "depot 'D1': opens")

"""A small builder that turns human units (kg, m3, CNY, seconds of the day) into ProblemData.

Every field is validated where it is given, so bad input fails before any solving starts,
with a message naming the object and the field.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from optimizer.data import (
    DEPOSIT_MIN_CREW,
    Bank,
    Depot,
    ProblemData,
    Vehicle,
    VehicleKind,
    Visit,
    VisitKind,
)
from optimizer.matrix import GreatCircleProvider, MatrixProvider, PointRefused, TravelMatrix

DAY = 24 * 3600
MAX_PRIORITY = 10
DEFAULT_VISIT_KINDS = {
    VehicleKind.TRUCK: frozenset({VisitKind.DELIVERY}),
    VehicleKind.TECHNICIAN: frozenset({VisitKind.INSTALL, VisitKind.REPAIR}),
}


class _Field:
    """Names the object under validation so every error says which one and which field."""

    def __init__(self, what: str) -> None:
        self.what = what

    def fail(self, field: str, rule: str) -> ValueError:
        return ValueError(f"{self.what}: {field}: {rule}")

    def coordinate(self, lat: float, lon: float) -> None:
        if not -90.0 <= lat <= 90.0:
            raise self.fail("lat", f"must be between -90 and 90, got {lat}")
        if not -180.0 <= lon <= 180.0:
            raise self.fail("lon", f"must be between -180 and 180, got {lon}")

    def non_negative(self, field: str, value: float) -> None:
        if not value >= 0:  # also rejects NaN
            raise self.fail(field, f"must not be negative, got {value}")

    def window(self, field: str, window: tuple[int, int]) -> tuple[int, int]:
        start, end = (int(window[0]), int(window[1]))
        if not 0 <= start <= DAY or not 0 <= end <= 2 * DAY:
            raise self.fail(field, f"must lie within the day in seconds, got {window}")
        if end < start:
            raise self.fail(field, f"ends before it starts ({end} < {start})")
        return start, end

    def day(self, field: str, value: int) -> int:
        try:
            day = operator.index(value)
        except TypeError:
            raise self.fail(field, f"must be a whole number of days, got {value!r}") from None
        if day < 0:
            raise self.fail(field, f"must not be negative, got {day}")
        return day

    def days(self, field: str, days: tuple[int, int]) -> tuple[int, int]:
        if not isinstance(days, tuple | list) or len(days) != 2:
            raise self.fail(field, f"expected (first, last) day offsets, got {days!r}")
        first, last = (self.day(field, value) for value in days)
        if last < first:
            raise self.fail(field, f"ends before it starts ({last} < {first})")
        return first, last


def _scaled(value: float, factor: int) -> int:
    return int(round(value * factor))


class Model:
    def __init__(self, *, deposit_min_crew: int = DEPOSIT_MIN_CREW) -> None:
        if deposit_min_crew < 1:
            raise ValueError(f"deposit_min_crew: must be at least 1, got {deposit_min_crew}")
        self._deposit_min_crew = deposit_min_crew
        self._skills: set[str] = set()
        self._depots: list[Depot] = []
        self._banks: list[Bank] = []
        self._vehicles: list[Vehicle] = []
        self._visits: list[Visit] = []
        self._pins: list[str | None] = []
        self._ids: set[tuple[str, str]] = set()

    def add_skills(self, names: Iterable[str]) -> None:
        for name in names:
            if not name or not isinstance(name, str):
                raise ValueError(f"skill: must be a non-empty string, got {name!r}")
            self._skills.add(name)

    def _claim(self, family: str, id_: str) -> _Field:
        """Check the id is free; it is taken only once the whole object is valid."""
        if not id_:
            raise ValueError(f"{family}: id: must not be empty")
        if (family, id_) in self._ids:
            raise ValueError(f"{family} {id_!r}: id: already used")
        return _Field(f"{family} {id_!r}")

    def _known_skills(self, check: _Field, skills: Iterable[str]) -> frozenset[str]:
        wanted = frozenset(skills)
        unknown = sorted(wanted - self._skills)
        if unknown:
            raise check.fail("skills", f"unknown skill {unknown[0]!r}; declare it with add_skills")
        return wanted

    def add_depot(
        self, id: str, *, lat: float, lon: float, opens: int = 0, closes: int = DAY, name: str = ""
    ) -> int:
        check = self._claim("depot", id)
        check.coordinate(lat, lon)
        opens, closes = check.window("hours", (opens, closes))
        self._ids.add(("depot", id))
        self._depots.append(Depot(id, float(lat), float(lon), opens, closes, name))
        return len(self._depots) - 1

    def add_bank(
        self,
        id: str,
        *,
        lat: float,
        lon: float,
        hours: tuple[int, int],
        service_s: int = 900,
        name: str = "",
    ) -> int:
        """A bank branch where crews of `deposit_min_crew` or more may deposit cash."""
        check = self._claim("bank", id)
        check.coordinate(lat, lon)
        opens, closes = check.window("hours", hours)
        check.non_negative("service_s", service_s)
        if closes - opens < service_s:
            raise check.fail("service_s", f"a deposit of {service_s} s does not fit in the hours")
        self._ids.add(("bank", id))
        self._banks.append(Bank(id, float(lat), float(lon), opens, closes, int(service_s), name))
        return len(self._banks) - 1

    def add_vehicle(
        self,
        id: str,
        *,
        depot: int,
        end_depot: int | None = None,
        shift: tuple[int, int],
        weight_kg: float,
        volume_m3: float,
        cash_cap_cny: float = 50_000,
        skills: Iterable[str] = (),
        kind: VehicleKind | str = VehicleKind.TRUCK,
        visit_kinds: Iterable[VisitKind | str] | None = None,
        crew_size: int = 2,
        name: str = "",
        day: int = 0,
    ) -> int:
        check = self._claim("vehicle", id)
        day = check.day("day", day)
        for field, index in (("depot", depot), ("end_depot", end_depot)):
            if index is not None and not 0 <= index < len(self._depots):
                raise check.fail(field, f"no depot with index {index}")
        shift = check.window("shift", shift)
        for field, value in (("weight_kg", weight_kg), ("volume_m3", volume_m3)):
            check.non_negative(field, value)
        if not cash_cap_cny > 0:
            raise check.fail("cash_cap_cny", f"must be positive, got {cash_cap_cny}")
        if crew_size < 1:
            raise check.fail("crew_size", f"must be at least 1, got {crew_size}")
        try:
            kind = VehicleKind(kind)
            kinds = (
                DEFAULT_VISIT_KINDS[kind]
                if visit_kinds is None
                else frozenset(VisitKind(k) for k in visit_kinds)
            )
        except ValueError as error:
            raise check.fail("kind", str(error)) from None
        self._ids.add(("vehicle", id))
        self._vehicles.append(
            Vehicle(
                id=id,
                kind=kind,
                start_depot=depot,
                end_depot=depot if end_depot is None else end_depot,
                shift_start=shift[0],
                shift_end=shift[1],
                weight_capacity=_scaled(weight_kg, 1000),
                volume_capacity=_scaled(volume_m3, 1_000_000),
                cash_cap=_scaled(cash_cap_cny, 100),
                skills=self._known_skills(check, skills),
                visit_kinds=kinds,
                crew_size=crew_size,
                name=name,
                day=day,
            )
        )
        return len(self._vehicles) - 1

    def add_visit(
        self,
        id: str,
        *,
        lat: float,
        lon: float,
        window: tuple[int, int],
        service_s: int,
        kind: VisitKind | str = VisitKind.DELIVERY,
        weight_kg: float = 0.0,
        volume_m3: float = 0.0,
        cash_cny: float = 0.0,
        skills: Iterable[str] = (),
        priority: int = 1,
        min_crew: int = 1,
        pinned_to: str | None = None,
        label: str = "",
        days: tuple[int, int] = (0, 0),
    ) -> int:
        check = self._claim("visit", id)
        check.coordinate(lat, lon)
        start, end = check.window("window", window)
        first_day, last_day = check.days("days", days)
        for field, value in (
            ("service_s", service_s),
            ("weight_kg", weight_kg),
            ("volume_m3", volume_m3),
            ("cash_cny", cash_cny),
        ):
            check.non_negative(field, value)
        if not 0 <= priority <= MAX_PRIORITY:
            raise check.fail("priority", f"must be between 0 and {MAX_PRIORITY}, got {priority}")
        if min_crew < 1:
            raise check.fail("min_crew", f"must be at least 1, got {min_crew}")
        try:
            kind = VisitKind(kind)
        except ValueError as error:
            raise check.fail("kind", str(error)) from None
        self._ids.add(("visit", id))
        self._visits.append(
            Visit(
                id=id,
                kind=kind,
                lat=float(lat),
                lon=float(lon),
                service_time=int(service_s),
                tw_start=start,
                tw_end=end,
                weight=_scaled(weight_kg, 1000),
                volume=_scaled(volume_m3, 1_000_000),
                cash=_scaled(cash_cny, 100),
                skills=self._known_skills(check, skills),
                priority=priority,
                min_crew=min_crew,
                pinned_vehicle=None,
                label=label,
                first_day=first_day,
                last_day=last_day,
            )
        )
        self._pins.append(pinned_to)
        return len(self._visits) - 1

    def _pinned_visits(self) -> tuple[Visit, ...]:
        index_of = {vehicle.id: i for i, vehicle in enumerate(self._vehicles)}
        visits = []
        for visit, pin in zip(self._visits, self._pins, strict=True):
            if pin is not None:
                if pin not in index_of:
                    raise ValueError(f"visit {visit.id!r}: pinned_to: no vehicle {pin!r}")
                visit = replace(visit, pinned_vehicle=index_of[pin])
            visits.append(visit)
        return tuple(visits)

    def place_of(self, index: int) -> tuple[str, str]:
        """The depot, visit or bank at row `index` of the travel matrices: (family, id)."""
        families: tuple[tuple[str, Sequence[Depot | Visit | Bank]], ...] = (
            ("depot", self._depots),
            ("visit", self._visits),
            ("bank", self._banks),
        )
        for family, places in families:
            if index < len(places):
                return family, places[index].id
            index -= len(places)
        raise IndexError(index)

    def coordinates(self) -> np.ndarray:
        """(lat, lon) of every node, depots, visits, banks: the order of the travel matrices."""
        points = [(d.lat, d.lon) for d in self._depots] + [(v.lat, v.lon) for v in self._visits]
        points += [(b.lat, b.lon) for b in self._banks]
        return np.array(points, dtype=np.float64).reshape(-1, 2)

    def data(
        self, provider: MatrixProvider | None = None, *, matrix: TravelMatrix | None = None
    ) -> ProblemData:
        """Freeze the model. `matrix` overrides the provider (benchmarks bring their own)."""
        if not self._depots:
            raise ValueError("depots: at least one depot is required")
        visits = self._pinned_visits()
        if matrix is None:
            try:
                matrix = (provider or GreatCircleProvider()).matrix(self.coordinates())
            except PointRefused as error:
                family, place_id = self.place_of(error.index)
                detail = f"lat, lon: {error.detail}"
                raise PointRefused(error.index, detail, family=family, place_id=place_id) from None
        nodes = len(self._depots) + len(visits) + len(self._banks)
        for field, values in (("distances", matrix.distances), ("durations", matrix.durations)):
            if values.shape != (nodes, nodes):
                raise ValueError(
                    f"matrix: {field}: shape {values.shape}, expected {(nodes, nodes)}"
                )
            if (values < 0).any():
                raise ValueError(f"matrix: {field}: must not be negative")
        # Copies, so freezing them never freezes the caller's arrays.
        distances = np.array(matrix.distances, dtype=np.int64, order="C")
        durations = np.array(matrix.durations, dtype=np.int64, order="C")
        distances.setflags(write=False)
        durations.setflags(write=False)
        return ProblemData(
            depots=tuple(self._depots),
            vehicles=tuple(self._vehicles),
            visits=visits,
            skills=frozenset(self._skills),
            distances=distances,
            durations=durations,
            banks=tuple(self._banks),
            deposit_min_crew=self._deposit_min_crew,
        )

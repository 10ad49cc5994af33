"""Which crews a search may leave at home, and on which days it pays."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from line_day import LineDay

from optimizer.data import ProblemData
from optimizer.engine import EngineRun
from optimizer.spare import crews_to_spare, depot_leg_share, visits_per_route


def routes_along_the_road(count: int, kms: Sequence[float]) -> tuple[ProblemData, EngineRun]:
    """`count` crews, each driving out to the visits at `kms` in order and back."""
    day = LineDay()
    day.depot()
    routes: dict[int, list[int]] = {}
    for crew in range(count):
        day.truck(f"T{crew}")
        routes[crew] = [day.visit(f"V{crew}-{k}", at_km=km) for k, km in enumerate(kms)]
    return day.data(), EngineRun(routes, 0, True, "")


@pytest.mark.parametrize(
    ("kms", "share"),
    [
        ([2, 5], 0.7),  # 2 km out, 3 between, 5 back: 7 of 10 km
        ([60, 61], 121 / 122),  # a far pair: all but the 1 km between
    ],
)
def test_depot_leg_share_counts_the_trips_out_and_back(kms: list[float], share: float) -> None:
    """The share is the metres to the first visit and from the last over all metres."""
    data, run = routes_along_the_road(3, kms)
    assert depot_leg_share(data, run) == pytest.approx(share)


@pytest.mark.parametrize(
    ("count", "kms", "spare"),
    [
        (13, [float(km) for km in range(1, 21)], 2),  # long routes: 8% of 13 is 1.04, so 2
        (51, [60, 61], 2),  # far from the depot: 2% of 51 is 1.02, so 2
        (3, [60, 61], 1),  # far, few routes: at least one crew
        (51, [1, 10], 0),  # near, short: 11 of 20 km on the trips, so parts instead
    ],
)
def test_crews_to_spare_by_route_length_and_depot_trips(
    count: int, kms: list[float], spare: int
) -> None:
    """Long routes spare 8% of the crews, routes mostly spent on the trips 2%, others none."""
    data, run = routes_along_the_road(count, kms)
    assert crews_to_spare(data, run) == spare


@pytest.mark.parametrize(
    ("routes", "mean"),
    [
        ({0: [1, 2, 3], 1: [], 2: [4]}, 2.0),  # the idle crew does not shorten the mean
        ({0: [], 1: []}, 0.0),  # nothing routed yet
    ],
)
def test_visits_per_route_counts_routes_that_serve(
    routes: dict[int, list[int]], mean: float
) -> None:
    """Route length, which decides between parts and fewer crews, ignores idle crews."""
    assert visits_per_route(EngineRun(routes, 0, True, "")) == mean

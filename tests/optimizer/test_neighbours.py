"""Granular neighbourhoods among visits that can share a route."""

from __future__ import annotations

import numpy as np

from optimizer.neighbours import compatible_neighbours

# Four visits on a line, 100 s apart: 0 - 1 - 2 - 3.
LINE = np.abs(np.subtract.outer(np.arange(4), np.arange(4))) * 100
ALL_DAY = np.array([0, 0, 0, 0]), np.array([10**6] * 4)
NO_SERVICE = np.zeros(4, dtype=np.int64)


def test_neighbours_are_nearest_first() -> None:
    """With one crew for all, each visit's neighbours are ordered by travel."""
    early, late = ALL_DAY
    crews = [frozenset({0})] * 4
    near = compatible_neighbours(LINE, early, late, NO_SERVICE, crews, count=3)
    assert near[0] == [1, 2, 3]
    assert near[2][:2] in ([1, 3], [3, 1]) and near[2][2] == 0


def test_visits_no_crew_shares_are_never_neighbours() -> None:
    """Visit 1 sits next to 2, but no crew may serve both: 2 is not its neighbour."""
    early, late = ALL_DAY
    crews = [frozenset({0}), frozenset({0}), frozenset({1}), frozenset({1, 2})]
    near = compatible_neighbours(LINE, early, late, NO_SERVICE, crews, count=3)
    assert near[1] == [0]
    assert near[2] == [3]
    assert near[3] == [2]


def test_a_window_that_cannot_follow_ranks_later() -> None:
    """Visit 1 is nearest to 0 but its window closes before 0's opens: 2 ranks first."""
    early = np.array([5_000, 0, 5_000, 5_000])
    late = np.array([6_000, 1_000, 6_000, 6_000])
    crews = [frozenset({0})] * 4
    near = compatible_neighbours(LINE, early, late, NO_SERVICE, crews, count=3)
    # 0 -> 1 is 4,100 s late and 1 -> 0 waits 3,900 s (weighted 0.2): 100 + 780 = 880 s,
    # against 200 s of plain travel to 2.
    assert near[0] == [2, 3, 1]


def test_a_visit_alone_has_no_neighbours() -> None:
    """A day of one visit gives it an empty neighbourhood instead of failing."""
    near = compatible_neighbours(
        np.zeros((1, 1), dtype=np.int64),
        np.array([0]),
        np.array([10]),
        np.array([0]),
        [frozenset({0})],
    )
    assert near == [[]]

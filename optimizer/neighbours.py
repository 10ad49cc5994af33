"""Granular neighbourhoods that respect who may serve whom.

Local search only tries moves between a visit and its nearest few neighbours. PyVRP ranks
neighbours on the first routing profile alone; with skills and visit kinds expressed as
profiles, a technician's visits then look far from each other and near deliveries they can
never share a route with, so their routes are barely improved. Here proximity is ranked
among visits that share at least one crew, on travel plus waiting and lateness.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# PyVRP's defaults: waiting counts a fifth of travel, lateness in full, 50 neighbours.
WEIGHT_WAIT = 0.2
WEIGHT_LATE = 1.0
NEIGHBOURS = 50
# Rows per block: bounds the temporary arrays on days of thousands of visits.
BLOCK = 512


def compatible_neighbours(
    durations: NDArray[np.int64],
    tw_early: NDArray[np.int64],
    tw_late: NDArray[np.int64],
    service: NDArray[np.int64],
    crews: Sequence[frozenset[int]],
    count: int = NEIGHBOURS,
) -> list[list[int]]:
    """For each visit, the `count` nearest visits that some crew could serve together with it.

    `durations` is the visit-to-visit travel time matrix (visits only, no depots); `crews`
    holds, per visit, the profiles (or vehicles) allowed to serve it.
    """
    n = len(crews)
    shares = _shares_a_crew(crews)
    result: list[list[int]] = []
    for start in range(0, n, BLOCK):
        rows = np.arange(start, min(start + BLOCK, n))
        there = _proximity(durations[rows, :], tw_early, tw_late, service, rows, outbound=True)
        back = _proximity(durations[:, rows].T, tw_early, tw_late, service, rows, outbound=False)
        proximity = np.minimum(there, back)
        proximity[~shares[rows]] = np.inf
        proximity[np.arange(len(rows)), rows] = np.inf
        k = min(count, n - 1)
        if k <= 0:
            result.extend([] for _ in rows)
            continue
        nearest = np.argpartition(proximity, k - 1, axis=1)[:, :k]
        for row, candidates in enumerate(nearest):
            ordered = candidates[np.argsort(proximity[row, candidates], kind="stable")]
            result.append([int(j) for j in ordered if np.isfinite(proximity[row, j])])
    return result


def _proximity(
    travel: NDArray[np.int64],
    tw_early: NDArray[np.int64],
    tw_late: NDArray[np.int64],
    service: NDArray[np.int64],
    rows: NDArray[np.int64],
    *,
    outbound: bool,
) -> NDArray[np.float64]:
    """Travel between each row visit and every visit, plus weighted waiting and lateness.

    Outbound means the row visit comes first, then the other; otherwise the other first.
    """
    row, every = (rows, None), (None, slice(None))
    first, then = (row, every) if outbound else (every, row)
    wait = np.maximum(tw_early[then] - travel - service[first] - tw_late[first], 0)
    late = np.maximum(tw_early[first] + service[first] + travel - tw_late[then], 0)
    return travel + WEIGHT_WAIT * wait + WEIGHT_LATE * late


def _shares_a_crew(crews: Sequence[frozenset[int]]) -> NDArray[np.bool_]:
    labels = sorted({crew for allowed in crews for crew in allowed})
    column = {crew: k for k, crew in enumerate(labels)}
    member = np.zeros((len(crews), max(len(labels), 1)), dtype=np.float32)
    for row, allowed in enumerate(crews):
        member[row, [column[c] for c in allowed]] = 1.0
    return (member @ member.T) > 0

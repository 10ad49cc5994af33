"""Tiny hand-checkable days: points on a straight road, one km apart, 2 minutes per km.

A module of its own, not conftest, so tests import it by a name no other folder shares.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.matrix import TravelMatrix
from optimizer.model import Model

H = 3600
SECONDS_PER_KM = 120
MORNING = (8 * H, 12 * H)
AFTERNOON = (13 * H, 18 * H)


def line_matrix(positions_km: Sequence[float]) -> TravelMatrix:
    """Travel along one road: |x_i - x_j| km, at 30 km/h."""
    x = np.asarray(positions_km, dtype=np.float64)
    km = np.abs(x[:, None] - x[None, :])
    return TravelMatrix(
        distances=np.rint(km * 1000).astype(np.int64),
        durations=np.rint(km * SECONDS_PER_KM).astype(np.int64),
    )


class LineDay:
    """A Model whose depots and visits sit at kilometre marks on one road."""

    def __init__(self, skills: Sequence[str] = ()) -> None:
        self.model = Model()
        self.model.add_skills(skills)
        self.positions: list[float] = []
        self.depot_positions: list[float] = []
        self.bank_positions: list[float] = []

    def depot(self, at_km: float = 0.0, name: str = "WH") -> int:
        self.depot_positions.append(at_km)
        return self.model.add_depot(name, lat=30.0, lon=104.0 + at_km / 100, opens=0, closes=24 * H)

    def truck(self, id: str, depot: int = 0, **overrides: object) -> int:
        fields: dict[str, object] = dict(
            shift=(7 * H, 19 * H), weight_kg=1000, volume_m3=10, cash_cap_cny=50_000
        )
        fields.update(overrides)
        return self.model.add_vehicle(id, depot=depot, **fields)  # type: ignore[arg-type]

    def visit(self, id: str, at_km: float, **overrides: object) -> int:
        fields: dict[str, object] = dict(window=MORNING, service_s=600)
        fields.update(overrides)
        self.positions.append(at_km)
        return self.model.add_visit(id, lat=30.0, lon=104.0 + at_km / 100, **fields)  # type: ignore[arg-type]

    def bank(self, id: str, at_km: float, **overrides: object) -> int:
        fields: dict[str, object] = dict(hours=(9 * H, 17 * H), service_s=900)
        fields.update(overrides)
        self.bank_positions.append(at_km)
        return self.model.add_bank(id, lat=30.0, lon=104.0 + at_km / 100, **fields)  # type: ignore[arg-type]

    def data(self):  # type: ignore[no-untyped-def]
        nodes = self.depot_positions + self.positions + self.bank_positions
        return self.model.data(matrix=line_matrix(nodes))

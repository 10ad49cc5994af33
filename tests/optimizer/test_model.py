"""The Model builder: validation messages name object and field; units convert exactly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from optimizer.data import ProblemData
from optimizer.matrix import TravelMatrix
from optimizer.model import Model

H = 3600
DEPOT = (31.20, 121.40)
MORNING = (9 * H, 12 * H)


def _visit(model: Model, id: str = "v1", **overrides: Any) -> int:
    kwargs: dict[str, Any] = {
        "lat": 31.21,
        "lon": 121.41,
        "window": MORNING,
        "service_s": 600,
    }
    return model.add_visit(id, **(kwargs | overrides))


def _vehicle(model: Model, id: str = "V2", **overrides: Any) -> int:
    kwargs: dict[str, Any] = {
        "depot": 0,
        "shift": (8 * H, 18 * H),
        "weight_kg": 1000,
        "volume_m3": 10,
    }
    return model.add_vehicle(id, **(kwargs | overrides))


@pytest.fixture
def model() -> Model:
    """One depot, one truck V1 and the declared skill 'assembly'."""
    built = Model()
    built.add_skills(["assembly"])
    built.add_depot("D", lat=DEPOT[0], lon=DEPOT[1])
    _vehicle(built, "V1")
    return built


def _two_visits_with_same_id(model: Model) -> None:
    _visit(model, "v1")
    _visit(model, "v1")


def _pinned_to_unknown_vehicle(model: Model) -> ProblemData:
    _visit(model, "v1", pinned_to="V9")
    return model.data()


@pytest.mark.parametrize(
    ("build", "prefix"),
    [
        # latitude beyond the pole
        pytest.param(lambda m: _visit(m, lat=95), "visit 'v1': lat:", id="visit-lat-95"),
        # longitude beyond the antimeridian
        pytest.param(lambda m: _visit(m, lon=-181), "visit 'v1': lon:", id="visit-lon-181"),
        # a depot with an impossible latitude is named as a depot
        pytest.param(
            lambda m: m.add_depot("D2", lat=-91, lon=0), "depot 'D2': lat:", id="depot-lat"
        ),
        # negative goods weight
        pytest.param(
            lambda m: _visit(m, weight_kg=-1.0), "visit 'v1': weight_kg:", id="visit-weight"
        ),
        # NaN weight must not slip through a plain `< 0` comparison
        pytest.param(
            lambda m: _visit(m, weight_kg=float("nan")),
            "visit 'v1': weight_kg:",
            id="visit-weight-nan",
        ),
        # negative cash to collect
        pytest.param(lambda m: _visit(m, cash_cny=-0.01), "visit 'v1': cash_cny:", id="visit-cash"),
        # time window that closes before it opens
        pytest.param(
            lambda m: _visit(m, window=(12 * H, 9 * H)),
            "visit 'v1': window: ends before it starts",
            id="visit-window-reversed",
        ),
        # a skill that was never declared with add_skills
        pytest.param(
            lambda m: _visit(m, skills=["welding"]),
            "visit 'v1': skills: unknown skill 'welding'",
            id="visit-unknown-skill",
        ),
        # priority above the maximum of 10
        pytest.param(lambda m: _visit(m, priority=11), "visit 'v1': priority:", id="priority-11"),
        # priority below the minimum of 0
        pytest.param(lambda m: _visit(m, priority=-1), "visit 'v1': priority:", id="priority-neg"),
        # pinned to a vehicle id nobody added; only detected when the model is frozen
        pytest.param(
            _pinned_to_unknown_vehicle,
            "visit 'v1': pinned_to: no vehicle 'V9'",
            id="visit-pinned-unknown",
        ),
        # the same visit id twice
        pytest.param(
            _two_visits_with_same_id, "visit 'v1': id: already used", id="visit-duplicate-id"
        ),
        # vehicle starting at a depot index that does not exist
        pytest.param(
            lambda m: _vehicle(m, depot=3), "vehicle 'V2': depot: no depot", id="vehicle-depot"
        ),
        # vehicle ending at a depot index that does not exist
        pytest.param(
            lambda m: _vehicle(m, end_depot=1),
            "vehicle 'V2': end_depot: no depot",
            id="vehicle-end-depot",
        ),
        # vehicle needing a skill that was never declared
        pytest.param(
            lambda m: _vehicle(m, skills=["welding"]),
            "vehicle 'V2': skills: unknown skill 'welding'",
            id="vehicle-unknown-skill",
        ),
        # vehicle shift ending before it starts
        pytest.param(
            lambda m: _vehicle(m, shift=(18 * H, 8 * H)),
            "vehicle 'V2': shift: ends before it starts",
            id="vehicle-shift-reversed",
        ),
        # negative vehicle capacity
        pytest.param(
            lambda m: _vehicle(m, volume_m3=-1), "vehicle 'V2': volume_m3:", id="vehicle-volume"
        ),
    ],
)
def test_bad_input_names_object_and_field(
    model: Model, build: Callable[[Model], object], prefix: str
) -> None:
    """Invalid input raises ValueError starting with '<kind> '<id>': <field>:'."""
    with pytest.raises(ValueError, match="^" + re.escape(prefix)):
        build(model)


def test_model_without_depot_is_rejected() -> None:
    """Freezing a model with no depot raises ValueError naming 'depots'."""
    with pytest.raises(ValueError, match="^depots: at least one depot is required"):
        Model().data()


def test_units_are_converted_exactly(model: Model) -> None:
    """kg, m3 and CNY become grams, cm3 and fen with no rounding error."""
    _visit(model, weight_kg=1.5, volume_m3=0.25, cash_cny=123.45)
    _vehicle(model, weight_kg=1.5, volume_m3=0.25, cash_cap_cny=123.45)
    data = model.data()
    visit = data.visits[0]
    assert (visit.weight, visit.volume, visit.cash) == (1500, 250_000, 12_345)
    vehicle = data.vehicles[data.vehicle_index("V2")]
    assert (vehicle.weight_capacity, vehicle.volume_capacity, vehicle.cash_cap) == (
        1500,
        250_000,
        12_345,
    )


def test_pinned_to_resolves_to_vehicle_index(model: Model) -> None:
    """A valid pinned_to id becomes the index of that vehicle in ProblemData."""
    _vehicle(model, "V2")
    _visit(model, pinned_to="V2")
    assert model.data().visits[0].pinned_vehicle == 1


@pytest.mark.parametrize("field", ["distances", "durations"])  # both matrices are frozen
def test_problem_data_matrices_are_read_only(model: Model, field: str) -> None:
    """Assigning into a frozen matrix raises ValueError."""
    _visit(model)
    matrix = getattr(model.data(), field)
    assert matrix.dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        matrix[0, 1] = 1


def _matrix(distances: np.ndarray, durations: np.ndarray) -> TravelMatrix:
    return TravelMatrix(distances=distances, durations=durations)


@pytest.mark.parametrize(
    ("override", "prefix"),
    [
        # 3x3 distances for a 2-node model (depot + one visit)
        (
            _matrix(np.zeros((3, 3), np.int64), np.zeros((2, 2), np.int64)),
            "matrix: distances: shape (3, 3), expected (2, 2)",
        ),
        # correct distances, but durations are not square
        (
            _matrix(np.zeros((2, 2), np.int64), np.zeros((2, 3), np.int64)),
            "matrix: durations: shape (2, 3), expected (2, 2)",
        ),
        # right shape but a negative travel time
        (
            _matrix(np.zeros((2, 2), np.int64), np.array([[0, -5], [5, 0]], np.int64)),
            "matrix: durations: must not be negative",
        ),
    ],
)
def test_bad_matrix_override_names_matrix(
    model: Model, override: TravelMatrix, prefix: str
) -> None:
    """A matrix override of the wrong shape or sign raises ValueError naming 'matrix'."""
    _visit(model)
    with pytest.raises(ValueError, match="^" + re.escape(prefix)):
        model.data(matrix=override)


def test_matrix_override_is_used_verbatim(model: Model) -> None:
    """A well-formed override replaces the provider's matrices value for value."""
    _visit(model)
    distances = np.array([[0, 700], [900, 0]], np.int64)
    durations = np.array([[0, 60], [90, 0]], np.int64)
    data = model.data(matrix=_matrix(distances, durations))
    assert data.distances.tolist() == [[0, 700], [900, 0]]
    assert data.durations.tolist() == [[0, 60], [90, 0]]


def test_route_nodes_run_from_start_depot_through_visits_to_end_depot(model: Model) -> None:
    """Depots come first among the nodes, so two depots put visit 1 at node 3."""
    model.add_depot("WH2", lat=31.30, lon=121.50)
    _visit(model, "v1")
    _visit(model, "v2", lat=31.22)
    vehicle = _vehicle(model, "ends at WH2", end_depot=1)
    data = model.data()
    assert data.route_nodes(vehicle, [1, 0]) == [0, 3, 2, 1]
    assert data.route_nodes(vehicle, []) == [0, 1]

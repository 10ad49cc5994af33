"""A full-domain day expressed for VROOM, on our own matrices, so both solve the same day."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.data import ProblemData

VROOM_PROFILE = "car"


def vroom_skills(data: ProblemData) -> tuple[list[set[int]], list[set[int]]]:
    """Integer skills (vehicles, jobs) that carry every static rule VROOM has no field for.

    A visit needs its named skills, "kind:<kind>", "crew>=<n>" when it needs more than one
    person, and "pin:<vehicle>" when pinned; a vehicle has the kinds it serves, every crew
    level up to its size and its own pin, so VROOM's skill subset test is our eligibility.
    """
    codes: dict[str, int] = {}

    def encode(labels: Sequence[str]) -> set[int]:
        return {codes.setdefault(label, len(codes)) for label in labels}

    crews = sorted({visit.min_crew for visit in data.visits if visit.min_crew > 1})
    jobs = []
    for visit in data.visits:
        labels = [*sorted(visit.skills), f"kind:{visit.kind}"]
        labels += [f"crew>={visit.min_crew}"] if visit.min_crew > 1 else []
        labels += [] if visit.pinned_vehicle is None else [f"pin:{visit.pinned_vehicle}"]
        jobs.append(encode(labels))
    vehicles = []
    for index, vehicle in enumerate(data.vehicles):
        labels = [*sorted(vehicle.skills), *(f"kind:{k}" for k in sorted(vehicle.visit_kinds))]
        labels += [f"crew>={n}" for n in crews if n <= vehicle.crew_size] + [f"pin:{index}"]
        vehicles.append(encode(labels))
    return vehicles, jobs


def vroom_input(data: ProblemData) -> Any:
    """The day as a vroom.Input on our own matrices; node indices are ProblemData's."""
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix(VROOM_PROFILE, data.durations)
    problem.set_distances_matrix(VROOM_PROFILE, data.distances)
    vehicle_skills, job_skills = vroom_skills(data)
    # Cost is distance alone, in metres, as in our objective; VROOM's default is duration.
    costs = vroom.VehicleCosts(per_hour=0, per_km=1000)
    for index, vehicle in enumerate(data.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(
                index,
                start=data.depot_node(vehicle.start_depot),
                end=data.depot_node(vehicle.end_depot),
                profile=VROOM_PROFILE,
                # Cash is only collected, so a route's total is its peak: a plain capacity.
                capacity=[vehicle.weight_capacity, vehicle.volume_capacity, vehicle.cash_cap],
                skills=vehicle_skills[index],
                time_window=data.vehicle_window(vehicle),
                costs=costs,
            )
        )
    for index, visit in enumerate(data.visits):
        problem.add_job(
            vroom.Job(
                index,
                location=data.visit_node(index),
                default_service=visit.service_time,
                delivery=[visit.weight, visit.volume, visit.cash],
                skills=job_skills[index],
                priority=visit.priority * 10,  # both rank higher as more important
                # VROOM's job window bounds the service start, as ours does: no service added.
                time_windows=[(visit.tw_start, visit.tw_end)],
            )
        )
    return problem

"""Solver parameters: validated at construction, stored with every plan."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FIRST_SOLUTIONS = (
    "parallel_cheapest_insertion",
    "local_cheapest_insertion",
    "global_cheapest_arc",
    "path_cheapest_arc",
    "savings",
    "christofides",
    "automatic",
)
ENGINES = ("hgs", "ortools")
METAHEURISTICS = (
    "guided_local_search",
    "simulated_annealing",
    "tabu_search",
    "greedy_descent",
    "automatic",
)


@dataclass(frozen=True, slots=True)
class SolveParams:
    time_limit_s: float = 30.0
    # A solution count makes a run reproducible where a wall-clock limit cannot.
    solution_limit: int | None = None
    first_solution: str = "parallel_cheapest_insertion"
    metaheuristic: str = "guided_local_search"
    # Genetic search first, then OR-Tools polishing its best plan under every domain rule.
    engines: tuple[str, ...] = ("hgs", "ortools")
    workers: int = 2  # genetic searches in parallel, one per core

    def __post_init__(self) -> None:
        self._check_search()
        unknown = [engine for engine in self.engines if engine not in ENGINES]
        if unknown or not self.engines:
            raise ValueError(f"engines: choose from {', '.join(ENGINES)}, got {self.engines}")
        if self.workers < 1:
            raise ValueError(f"workers: must be at least 1, got {self.workers}")

    def _check_search(self) -> None:
        if not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s: must be positive, got {self.time_limit_s}")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit: must be at least 1, got {self.solution_limit}")
        if self.first_solution not in FIRST_SOLUTIONS:
            raise ValueError(f"first_solution: must be one of {', '.join(FIRST_SOLUTIONS)}")
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(f"metaheuristic: must be one of {', '.join(METAHEURISTICS)}")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "engines": list(self.engines)}

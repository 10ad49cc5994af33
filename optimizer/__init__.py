"""Route optimisation for deliveries and technician visits: model, solve, check."""

from optimizer.data import Depot, ProblemData, Vehicle, VehicleKind, Visit, VisitKind
from optimizer.engine import Progress
from optimizer.model import Model
from optimizer.params import SolveParams
from optimizer.result import Kpis, ReasonCode, Result, Route, Status, Stop, Unassigned
from optimizer.solve import solve

__all__ = [
    "Depot",
    "Kpis",
    "Model",
    "ProblemData",
    "Progress",
    "ReasonCode",
    "Result",
    "Route",
    "SolveParams",
    "Status",
    "Stop",
    "Unassigned",
    "Vehicle",
    "VehicleKind",
    "Visit",
    "VisitKind",
    "solve",
]

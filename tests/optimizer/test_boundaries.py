"""The optimizer stays a pure library: import direction and the single OR-Tools module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

OPTIMIZER = Path(__file__).resolve().parents[2] / "optimizer"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    "forbidden",
    [
        "fastapi",  # the web layer depends on the optimizer, never the reverse
        "sqlmodel",  # storage belongs to the service
        "sqlalchemy",  # likewise
        "folium",  # maps depend on the optimizer, never the reverse
        "api",  # import direction api -> optimizer
        "maps",  # import direction maps -> optimizer
    ],
)
def test_optimizer_never_imports(forbidden: str) -> None:
    """No optimizer module imports the service, storage or map layers."""
    offenders = [p.name for p in OPTIMIZER.glob("*.py") if forbidden in imported_roots(p)]
    assert offenders == []


def test_only_the_engine_imports_ortools() -> None:
    """Exactly one optimizer module touches OR-Tools."""
    users = sorted(p.name for p in OPTIMIZER.glob("*.py") if "ortools" in imported_roots(p))
    assert users == ["engine.py"]


def test_check_is_independent_of_the_solver() -> None:
    """The checker shares no code with the solver it checks."""
    tree = ast.parse((OPTIMIZER / "check.py").read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert modules & {"optimizer.engine", "optimizer.schedule", "optimizer.solve"} == set()

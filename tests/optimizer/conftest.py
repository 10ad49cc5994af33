"""The optimizer tests' fixture: an empty line day with the gas and stone skills."""

from __future__ import annotations

import pytest
from line_day import LineDay


@pytest.fixture
def day() -> LineDay:
    return LineDay(skills=("gas", "stone"))

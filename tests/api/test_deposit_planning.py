"""End to end: a day whose cash needs a bank, planned by a real job, stored with its deposit.

Meaningful once the optimizer plans deposit stops (issue 29's optimizer part): before that
the planner leaves out the cash it cannot carry and this test fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deposit_helpers import cash_heavy_day, planned_by_job
from fastapi.testclient import TestClient
from plan_helpers import app_at

from api.core.config import ServiceSettings


@pytest.fixture
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    with app_at(settings) as test_client:
        yield test_client


def test_a_day_whose_cash_needs_a_bank_gets_a_deposit_stop(
    client: TestClient, admin: dict[str, str]
) -> None:
    """All three customers are served: C01 banks within the hours, carrying ≤ ¥3,000."""
    cash_heavy_day(client, admin, trucks=())
    plan = client.get(f"/plans/{planned_by_job(client, admin)}", headers=admin).json()
    assert plan["unassigned"] == []
    [route] = plan["routes"]
    assert len(route["stops"]) == 3 and route["deposits"], route
    for deposit in route["deposits"]:
        assert deposit["bank_code"] == "ICBC-CH"
        # A crew early at the bank waits at its door: the counter work is within hours.
        assert deposit["start"] >= "09:00" and deposit["departure"] <= "17:00"
        assert 0 < deposit["amount_cny"] <= 3000
    assert all(stop["cash_cny"] <= 3000 for stop in route["stops"])

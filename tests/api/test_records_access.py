"""A driver's reads stay within their own crew, and a refused read says it was a read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import on_the_day, published_day_database, record
from plan_helpers import DAY

from api.core.config import ServiceSettings
from api.records.kinds import Kind

prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from on_the_day(settings)


@pytest.mark.parametrize(
    "path",
    [
        # the day's records of another crew
        "/handover/{day}/records?vehicle=C02",
        # another crew's loading count
        "/handover/{day}/loading/C02",
        # another crew's cash on board
        "/cash/{day}/on-board/C02",
    ],
)
def test_a_driver_reading_another_crew_is_forbidden_as_a_read(
    day: TestClient, key_for: KeyMaker, path: str
) -> None:
    """A C01 driver asking for C02 gets a 403 that says reads, not writes."""
    record(day, Kind.ARRIVED, "SO-06")
    answer = day.get(path.format(day=DAY.isoformat()), headers=key_for("driver", "C01"))
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"] == "a driver reads only for their own crew, not C02"


def test_a_driver_reads_their_own_records(day: TestClient, key_for: KeyMaker) -> None:
    """Naming their own crew, or none, gives a driver their crew's records and no other."""
    record(day, Kind.ARRIVED, "SO-03")
    record(day, Kind.ARRIVED, "SO-06")
    driver = key_for("driver", "C01")
    for query in ("?vehicle=C01", ""):
        answer = day.get(f"/handover/{DAY.isoformat()}/records{query}", headers=driver)
        assert answer.status_code == 200, answer.text
        assert [row["vehicle_code"] for row in answer.json()] == ["C01"]

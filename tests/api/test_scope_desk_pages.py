"""The desk's pages against the scope boundary: a Shanghai desk signed in never sees a
Chengdu board, crew page or map, the board shows one area's plans and crews only, and the
landing page lists only the areas in the key's scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_keys import KeyMaker
from desk_helpers import D, two_area_day_database
from fastapi.testclient import TestClient
from ledger_helpers import on_the_day
from plan_helpers import engine_of
from sqlmodel import Session, select

from api.core.config import ServiceSettings
from api.plans.models import Plan

COVERED: set[tuple[str, str]] = {
    ("GET", "/app"),
    ("GET", "/app/sign-in"),
    ("GET", "/app/board"),
    ("GET", "/app/driver"),
    ("GET", "/app/driver/map.html"),
}


prepared_database = two_area_day_database


@pytest.fixture
def chain(settings: ServiceSettings) -> Iterator[TestClient]:
    yield from on_the_day(settings)


def sign_in(client: TestClient, headers: dict[str, str]) -> None:
    key = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/session", json={"key": key}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/app/board?area=cd&date={D}",
        f"/app/driver?vehicle=CD1&date={D}",
        f"/app/driver/map.html?vehicle=CD1&date={D}",
    ],
)
def test_a_page_of_another_area_is_403(chain: TestClient, key_for: KeyMaker, path: str) -> None:
    """Signed in as Shanghai's desk, Chengdu's board, crew page and map are refused; Chengdu's
    desk opens them."""
    sign_in(chain, key_for("dispatcher", areas=["sh"]))
    answer = chain.get(path)
    assert answer.status_code == 403, answer.text
    assert "outside this key" in answer.text
    sign_in(chain, key_for("dispatcher", areas=["cd"]))
    answer = chain.get(path)
    assert answer.status_code == 200, answer.text
    assert "CD1" in answer.text


def test_a_scoped_desks_board_shows_only_its_own_area(chain: TestClient, key_for: KeyMaker) -> None:
    """Chengdu's board, asked without an area, has Chengdu's truck and visits and none of
    Shanghai's, and offers no area picker."""
    sign_in(chain, key_for("dispatcher", areas=["cd"]))
    page = chain.get(f"/app/board?date={D}").text
    assert "CD1" in page and "CD-2" in page
    assert "SH1" not in page and "SH-1" not in page
    assert 'id="area"' not in page


def test_a_multi_area_desk_gets_its_first_area_and_a_picker(
    chain: TestClient, key_for: KeyMaker
) -> None:
    """A desk of both areas opens the first one's board, with a picker of exactly its two."""
    sign_in(chain, key_for("dispatcher", areas=["cd", "sh"]))
    page = chain.get(f"/app/board?date={D}").text
    assert "CD1" in page and "SH1" not in page
    assert 'option value="cd" selected' in page and 'option value="sh"' in page
    assert 'option value="main"' not in page
    other = chain.get(f"/app/board?date={D}&area=sh").text
    assert "SH1" in other and "CD1" not in other


def test_the_landing_page_lists_the_areas_in_scope(chain: TestClient, key_for: KeyMaker) -> None:
    """A desk of two areas picks one of them (and of no other); a one-area desk goes straight
    to its board."""
    sign_in(chain, key_for("dispatcher", areas=["cd", "sh"]))
    answer = chain.get("/app", follow_redirects=False)
    assert answer.status_code == 200, answer.text
    assert 'data-area="cd"' in answer.text and 'data-area="sh"' in answer.text
    assert 'data-area="main"' not in answer.text
    assert "/app/board?area=sh" in answer.text
    sign_in(chain, key_for("dispatcher", areas=["sh"]))
    answer = chain.get("/app", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/app/board")


def test_the_sign_in_page_names_no_area(chain: TestClient) -> None:
    """The sign-in page is the same for everyone: no area's name or data before a key."""
    answer = chain.get("/app/sign-in")
    assert answer.status_code == 200
    assert "CD1" not in answer.text and "成都" not in answer.text


def test_another_areas_plan_on_the_board_is_403(chain: TestClient, key_for: KeyMaker) -> None:
    """Asking Chengdu's board for Shanghai's plan by its id is refused, whatever area is named."""
    with Session(engine_of(chain)) as session:
        plan = session.exec(select(Plan.id).where(Plan.area_code == "sh")).one()
    sign_in(chain, key_for("dispatcher", areas=["cd"]))
    assert chain.get(f"/app/board?plan={plan}&area=cd").status_code == 403
    sign_in(chain, key_for("dispatcher", areas=["sh"]))
    answer = chain.get(f"/app/board?plan={plan}")
    assert answer.status_code == 200 and "SH1" in answer.text

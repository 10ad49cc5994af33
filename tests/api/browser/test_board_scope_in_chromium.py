"""A scoped desk's board in headless Chromium: one area's plan and crews, and the picker."""

from __future__ import annotations

from typing import Any

from area_helpers import seed_two_areas
from desk_helpers import D, publish_by_hand
from live_service import LiveService
from plan_helpers import NOW
from sqlmodel import Session

from api.auth.models import ApiKeyCreate, Role
from api.auth.service import issue_key


def _desk_key(live: LiveService, areas: list[str]) -> str:
    with Session(live.app.state.engine) as session:
        request = ApiKeyCreate(name="调度", role=Role.DISPATCHER, areas=areas)
        return issue_key(session=session, request=request).key


def _signed_in(browser: Any, live: LiveService, key: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    return live.sign_in(context, key)


def test_a_scoped_desk_sees_only_its_areas_board(
    live_service: LiveService, browser: Any, screenshot: Any
) -> None:
    """Chengdu's desk sees CD1 and no Shanghai truck; a desk of both switches with the picker."""
    live = live_service
    live.clock.fixed = NOW
    admin = {"Authorization": live.admin.headers["Authorization"]}
    seed_two_areas(live.admin, admin)  # type: ignore[arg-type]
    for area in ("cd", "sh"):
        publish_by_hand(live, area)  # type: ignore[arg-type]
    page = _signed_in(browser, live, _desk_key(live, ["cd"]))
    page.goto(f"{live.url}/app/board?date={D}")
    text = page.inner_text("body")
    assert "CD1" in text and "SH1" not in text
    assert page.query_selector("#area") is None
    both = _signed_in(browser, live, _desk_key(live, ["cd", "sh"]))
    both.goto(f"{live.url}/app/board?date={D}")
    assert "CD1" in both.inner_text("body")
    both.select_option("#area", "sh")
    both.wait_for_url(lambda address: "area=sh" in address)
    text = both.inner_text("body")
    assert "SH1" in text and "CD1" not in text
    screenshot(both, "board-area-sh")

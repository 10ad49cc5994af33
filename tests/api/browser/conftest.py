"""Browser tests: the real service over real HTTP, driven by Debian's headless Chromium.

The service runs in a thread under uvicorn on a free port with a SQLite file; Playwright
drives the system's `chromium` (its own browser download is never used). Screenshots go to
test-artifacts/screenshots (DISPATCH_ARTIFACTS overrides), kept as the run's artifacts.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_service import LiveService

from api.core.clock import Clock
from api.core.config import ServiceSettings
from api.main import create_app
from api.serve import running_service

ADMIN_KEY = "browser-admin-key"
ARTIFACTS = Path(os.environ.get("DISPATCH_ARTIFACTS", "test-artifacts")) / "screenshots"


@pytest.fixture
def live_service(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveService]:
    """The service on a free port; an indirect parametrize passes settings to override."""
    overrides = getattr(request, "param", {})
    settings = ServiceSettings(
        database_url=f"sqlite:///{tmp_path / 'browser.db'}",
        bootstrap_admin_key=ADMIN_KEY,
        run_scheduler=False,
        **overrides,
    )
    clock = Clock(settings.timezone, fixed=dt.datetime.now(dt.UTC))
    app = create_app(settings, clock=clock)
    with (
        running_service(app) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
        ) as admin,
    ):
        yield LiveService(url=url, clock=clock, app=app, admin=admin)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; skipped with the install command when it is missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium not installed (apt-get install chromium)"
        if os.environ.get("DISPATCH_REQUIRE_BROWSER"):
            pytest.fail(message)  # CI promises browser tests; never skip them silently
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Any:
    """screenshot(page, "name") saves test-artifacts/screenshots/<test>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save

"""Whatever the schema allows, or nearly allows, no endpoint answers with a server error.

Schemathesis generates requests from our own OpenAPI schema, valid and malformed, and sends
them over real HTTP to the running service. Bad input must come back as 4xx, never 5xx.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.core.config import ServiceSettings
from api.main import create_app
from api.serve import running_service

KEY = secrets.token_urlsafe(16)
schema = (
    schemathesis.openapi.from_dict(create_app().openapi())
    # Starting solves is exercised in test_plans; fuzzing it would only queue CPU work.
    .exclude(path_regex=r"^/plans(/\{plan_id\}/reoptimize)?$", method="POST")
    # Revoking keys would revoke the fuzzer's own key and turn the rest into 401s.
    .exclude(path_regex=r"^/keys/", method="DELETE")
)


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service on a free local port, with a fresh SQLite database."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    service = ServiceSettings(
        database_url=f"sqlite:///{folder / 'fuzz.db'}",
        bootstrap_admin_key=KEY,
        run_scheduler=False,
        # Generated sign-ins carry made-up keys; locked out, every later case would be a 429.
        sign_in_free_failures=1_000_000,
    )
    with running_service(create_app(service)) as url:
        yield url


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, service_url: str) -> None:
    """Generated requests, with an admin key, never get a 5xx."""
    # The schema declares bearer auth, so generated cases carry made-up tokens: use ours.
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEY}"}
    response = case.call(base_url=service_url)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"

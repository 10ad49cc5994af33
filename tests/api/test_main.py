"""The application's start-up: how many threads serve requests."""

from __future__ import annotations

from anyio import to_thread
from fastapi.testclient import TestClient

from api.core.config import ServiceSettings
from api.main import create_app


def test_requests_are_served_on_request_threads(settings: ServiceSettings) -> None:
    """The service runs at most request_threads requests' work at once."""
    app = create_app(settings.model_copy(update={"request_threads": 3}))
    with TestClient(app) as client:
        assert client.portal is not None
        limit = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert limit == 3

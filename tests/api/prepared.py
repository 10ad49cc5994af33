"""Databases for API tests: built once and copied for each test, made and dropped on the
throwaway PostgreSQL server; and the settings every API test runs with.

Building a rich starting state through the API (two areas, their fleet, orders, plans) costs
far more than copying its database, which is what each test of such a module gets instead:
the same rows, ids and sequences it would have built itself, in a database of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text

from api.core.config import ServiceSettings
from api.core.db import make_engine

ADMIN_KEY = "test-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@dataclass(frozen=True)
class Prepared:
    """A built database to copy (an SQLite file's path, or a PostgreSQL database's name),
    with what the build handed back for the tests, such as the ids it created."""

    source: str
    extras: dict[str, Any] = field(default_factory=dict)


# A build gets the URL of a fresh migrated database, fills it and returns its extras; it
# must leave no connection open, as PostgreSQL copies only a database nobody is using.
Build = Callable[[str], dict[str, Any]]
Prepare = Callable[[str, str, Build], Prepared]


def service_settings(database_url: str) -> ServiceSettings:
    """The service's settings in API tests, on `database_url`."""
    # The test client speaks plain http://testserver, where a Secure cookie is never sent
    # back; the Secure default has a test of its own.
    return ServiceSettings(
        database_url=database_url,
        bootstrap_admin_key=ADMIN_KEY,
        run_scheduler=False,
        session_cookie_secure=False,
    )


def prepared_for(fixture: str, name: str, build: Build) -> Any:
    """A module's `prepared_database` fixture: the database `build` fills (once, as `name`)
    for the tests that use `fixture`; the module's other tests start from the template."""

    @pytest.fixture
    def prepared_database(
        request: pytest.FixtureRequest, backend: str, prepare: Prepare
    ) -> Prepared | None:
        if fixture not in request.fixturenames:
            return None
        return prepare(backend, name, build)

    return prepared_database


def create_database(server: str, name: str, template: str | None = None) -> str:
    """Database `name` made on the PostgreSQL `server`, a copy of `template` if given; its URL."""
    copy = f' TEMPLATE "{template}"' if template else ""
    _as_admin(server, f'CREATE DATABASE "{name}"{copy}')
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    """Drops database `name`, closing what still holds it (a test's app may leave connections)."""
    _as_admin(server, f'DROP DATABASE "{name}" WITH (FORCE)')


def _as_admin(server: str, statement: str) -> None:
    admin = make_engine(f"{server}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()

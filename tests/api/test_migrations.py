"""The schema comes from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.core.db import make_engine
from api.core.migrate import upgrade
from api.core.tables import metadata


def test_migrations_match_the_models(database_url: str) -> None:
    """A migrated database has no difference from the models (a missing revision fails)."""
    engine = make_engine(database_url)
    upgrade(engine)  # already at head: running it again must be harmless
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert differences == []

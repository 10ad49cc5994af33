"""Alembic environment: runs against the engine the service hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from api.core.tables import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it and dropping the old one, which its foreign
        # keys forbid while other rows point at it (a depot's vehicles). The pragma only
        # takes effect outside a transaction, so it is set before the migration's begins,
        # and the whole database is checked before the keys are enforced again.
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,  # SQLite alters by table copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
            if broken:
                raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    connection.commit()
    if sqlite:
        connection.execute(text("PRAGMA foreign_keys=ON"))
        connection.commit()

"""ticket event: unassigned

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00.000000
"""

from __future__ import annotations

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Autogenerate does not see a new enum member. PostgreSQL keeps the members in a type;
    # SQLite stores the name as text, long enough already.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TYPE ticketeventkind ADD VALUE IF NOT EXISTS 'UNASSIGNED'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum member; 'UNASSIGNED' stays in ticketeventkind, unused.
    op.execute("DELETE FROM ticket_event WHERE kind = 'UNASSIGNED'")

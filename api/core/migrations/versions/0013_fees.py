"""paid service: the ticket's warranty card, and the manager role

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('purchase_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('warranty_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('under_warranty', sa.Boolean(), nullable=True))
    # Autogenerate does not see a new enum member. PostgreSQL keeps the members in a type;
    # SQLite stores the name as text, long enough already.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'MANAGER'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum member; 'MANAGER' stays in role, unused.
    op.execute(
        "DELETE FROM web_session WHERE key_id IN (SELECT id FROM api_key WHERE role = 'MANAGER')"
    )
    op.execute("DELETE FROM api_key WHERE role = 'MANAGER'")
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('under_warranty')
        batch_op.drop_column('warranty_until')
        batch_op.drop_column('purchase_date')
        batch_op.drop_column('product_type')

"""ticket visits

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:19:58.701673
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lon', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('visit_order_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_visit_order_id'), ['visit_order_id'], unique=False)
        batch_op.create_foreign_key('fk_ticket_visit_order_id', 'order', ['visit_order_id'], ['id'])

    # Autogenerate does not see a new enum member. PostgreSQL keeps the members in a type;
    # SQLite stores the name as text, long enough already.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TYPE ticketeventkind ADD VALUE IF NOT EXISTS 'SCHEDULED'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum member; 'SCHEDULED' stays in ticketeventkind, unused.
    op.execute("DELETE FROM ticket_event WHERE kind = 'SCHEDULED'")
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint('fk_ticket_visit_order_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ticket_visit_order_id'))
        batch_op.drop_column('visit_order_id')
        batch_op.drop_column('lon')
        batch_op.drop_column('lat')
        batch_op.drop_column('address')
        batch_op.drop_column('order_external_id')

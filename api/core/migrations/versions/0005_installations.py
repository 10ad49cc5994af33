"""installations and agreed visit times

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:11:45.129515
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follows_order_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('latest_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('window_from', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('window_to', sa.Time(), nullable=True))
        batch_op.create_index(batch_op.f('ix_order_follows_order_id'), ['follows_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_latest_date'), ['latest_date'], unique=False)
        batch_op.create_foreign_key('fk_order_follows_order_id', 'order', ['follows_order_id'], ['id'])

    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('install_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('order_item', schema=None) as batch_op:
        batch_op.drop_column('install_type')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_constraint('fk_order_follows_order_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_order_latest_date'))
        batch_op.drop_index(batch_op.f('ix_order_follows_order_id'))
        batch_op.drop_column('window_to')
        batch_op.drop_column('window_from')
        batch_op.drop_column('latest_date')
        batch_op.drop_column('follows_order_id')


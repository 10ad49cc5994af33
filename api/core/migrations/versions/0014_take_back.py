"""take-back repairs: the register of customers' goods held for repair (客户商品进出登记簿),
one row per numbered receipt; its steps are ledger entries

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 03:24:34.894624
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('take_back',
    sa.Column('product', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('serial', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('condition', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('accessories', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('fault', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('under_warranty', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('customer_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('customer_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sa.Enum('IN', 'REPAIRED', 'INSPECTED', 'RETURN_BOOKED', 'OUT', name='goodsstatus'), nullable=False),
    sa.Column('vehicle_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('taken_on', sa.Date(), nullable=False),
    sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('repaired_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('repaired_key_id', sa.Integer(), nullable=True),
    sa.Column('repaired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('labour_hours', sa.Float(), nullable=True),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('work_done', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('inspected_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('inspected_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('return_order_id', sa.Integer(), nullable=True),
    sa.Column('returned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('charge_fen', sa.Integer(), nullable=True),
    sa.Column('entries', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], ),
    sa.ForeignKeyConstraint(['return_order_id'], ['order.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('area_code', 'year', 'seq'),
    sa.UniqueConstraint('receipt_no')
    )
    with op.batch_alter_table('take_back', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_take_back_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_take_back_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_take_back_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('take_back', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_take_back_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_take_back_status'))
        batch_op.drop_index(batch_op.f('ix_take_back_area_code'))

    op.drop_table('take_back')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TYPE IF EXISTS goodsstatus')

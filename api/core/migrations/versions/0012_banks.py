"""bank deposits on the route: each area's bank branches, its switch for deposits, and the
deposit stops of a plan

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposits_enabled', sa.Boolean(), nullable=True))

    op.create_table('bank_branch',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.Column('service_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bank_branch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_branch_code'), ['code'], unique=True)
        batch_op.create_index(batch_op.f('ix_bank_branch_area_code'), ['area_code'], unique=False)

    op.create_table('plan_deposit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('vehicle_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('after', sa.Integer(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('bank_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('arrival', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('departure', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('distance_from_previous_m', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'vehicle_code', 'after')
    )
    with op.batch_alter_table('plan_deposit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_deposit_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    op.drop_table('plan_deposit')
    op.drop_table('bank_branch')
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.drop_column('deposits_enabled')

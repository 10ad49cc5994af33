"""plan job: re-queues and the best plan so far

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requeues', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('requeue_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('visits_routed', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('distance_km', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_job', schema=None) as batch_op:
        batch_op.drop_column('distance_km')
        batch_op.drop_column('visits_routed')
        batch_op.drop_column('requeue_reason')
        batch_op.drop_column('requeues')

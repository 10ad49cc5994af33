"""plan job: a lease renewed by its run's progress reports

A running job is re-queued only when its lease has run out, so one process starting never
re-queues a job another live process is solving. Jobs left running before this revision
have no heartbeat: they count as expired, as the old start-up re-queued them all.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('plan_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan_job', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')

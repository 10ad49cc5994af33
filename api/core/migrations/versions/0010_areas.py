"""planning areas: every depot, staff member, order, plan, job, ticket, message and record
belongs to one; existing data goes into the default area "main"

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:40:00.000000
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

DEFAULT = 'main'
# Tables whose rows now name their area; every existing row is the default area's.
OWNED = ('depot', 'staff', 'order', 'plan', 'plan_job', 'ticket', 'notification_message')
# SQLite keeps the unique constraint of 0002 unnamed; this names it so it can be dropped.
NAMES = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _add_area(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'area_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
            server_default=DEFAULT,
        ))
    with op.batch_alter_table(table, schema=None) as batch_op:
        # The default only fills existing rows: new rows must say their area.
        batch_op.alter_column('area_code', server_default=None)
        batch_op.create_index(batch_op.f(f'ix_{table}_area_code'), ['area_code'], unique=False)
        batch_op.create_foreign_key(f'fk_{table}_area', 'area', ['area_code'], ['code'])


def _ledger_entry() -> None:
    _add_area('ledger_entry')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('ledger_entry', naming_convention=NAMES) as batch_op:
            batch_op.drop_constraint('uq_ledger_entry_date', type_='unique')
            batch_op.create_unique_constraint(
                'ledger_entry_area_code_date_seq_key', ['area_code', 'date', 'seq']
            )
    else:
        op.drop_constraint('ledger_entry_date_seq_key', 'ledger_entry', type_='unique')
        op.create_unique_constraint(
            'ledger_entry_area_code_date_seq_key', 'ledger_entry', ['area_code', 'date', 'seq']
        )


def _ledger_head() -> None:
    # The head's key becomes (area, date): a new table, the rows copied, the old one dropped.
    op.create_table(
        'ledger_head_by_area',
        sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(['area_code'], ['area.code'], name='fk_ledger_head_area'),
        sa.PrimaryKeyConstraint('area_code', 'date'),
    )
    op.execute(
        "INSERT INTO ledger_head_by_area (area_code, date, seq, hash) "
        f"SELECT '{DEFAULT}', date, seq, hash FROM ledger_head"
    )
    op.drop_table('ledger_head')
    op.rename_table('ledger_head_by_area', 'ledger_head')


def upgrade() -> None:
    area = op.create_table(
        'area',
        sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('morning_start', sa.Time(), nullable=True),
        sa.Column('morning_end', sa.Time(), nullable=True),
        sa.Column('afternoon_start', sa.Time(), nullable=True),
        sa.Column('afternoon_end', sa.Time(), nullable=True),
        sa.Column('booking_lead_days', sa.Integer(), nullable=True),
        sa.Column('planning_time', sa.Time(), nullable=True),
        sa.Column('publish_cutoff', sa.Time(), nullable=True),
        sa.Column('cash_cap_cny', sa.Integer(), nullable=True),
        sa.Column('install_types', sa.JSON(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('code'),
    )
    # The store's own time zone, as the service was set up with it; the area keeps it.
    timezone = os.environ.get('DISPATCH_TIMEZONE', 'Asia/Shanghai')
    op.bulk_insert(area, [{
        'code': DEFAULT, 'name': 'Main', 'city': '', 'timezone': timezone,
        'created_at': datetime.now(UTC),
    }])
    op.create_table(
        'scheduled_run',
        sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['area_code'], ['area.code']),
        sa.PrimaryKeyConstraint('area_code', 'date'),
    )
    for table in OWNED:
        _add_area(table)
    _ledger_entry()
    _ledger_head()
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('areas', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    raise NotImplementedError('planning areas cannot be taken out again: restore a backup')

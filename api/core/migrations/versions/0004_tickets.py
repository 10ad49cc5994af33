"""after-sales tickets

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:04:55.903885
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket',
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('urgency', sa.Enum('LOW', 'NORMAL', 'HIGH', name='ticketurgency'), nullable=True),
    sa.Column('preferred_time', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('customer_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('customer_phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('equipment', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('service_type', sa.Enum('INSTALL', 'START_UP', 'REPAIR', 'MAINTENANCE', name='ticketservicetype'), nullable=True),
    sa.Column('on_site_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('solution', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('solution_due', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('root_cause', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('corrective_action', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('category', sa.Enum('REPAIR', 'MAINTENANCE', 'LEFTOVER', 'COMPLAINT', name='ticketcategory'), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'ANSWERED', 'WAITING_PARTS', 'ASSIGNED', 'CLOSED', name='ticketstatus'), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('vehicle_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('assigned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('contacted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('estimated_arrival', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('tested', sa.Boolean(), nullable=False),
    sa.Column('site_cleaned', sa.Boolean(), nullable=False),
    sa.Column('service_report_id', sa.Integer(), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('follow_up_done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('escalated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['service_report_id'], ['ledger_entry.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_external_id'), ['external_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_ticket_status'), ['status'], unique=False)

    op.create_table('ticket_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('OPENED', 'UPDATED', 'ANSWERED', 'ASSIGNED', 'CONTACTED', 'PARTS_WAITING', 'PARTS_ARRIVED', 'VISITED', 'CLOSED', 'FOLLOW_UP_DONE', 'ESCALATED', name='ticketeventkind'), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_event_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_event_ticket_id'))

    op.drop_table('ticket_event')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_status'))
        batch_op.drop_index(batch_op.f('ix_ticket_external_id'))

    op.drop_table('ticket')
    # PostgreSQL keeps enum types after their table is dropped.
    for name in ('ticketeventkind', 'ticketstatus', 'ticketcategory', 'ticketservicetype', 'ticketurgency'):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)

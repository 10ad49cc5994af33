"""customer notifications outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

KINDS = ('DAY_BEFORE', 'ARRIVING_SOON', 'DELAYED', 'INSTALL_REMINDER')
STATUSES = ('PENDING', 'SENDING', 'SENT', 'FAILED')


def upgrade() -> None:
    op.create_table('notification_message',
    sa.Column('kind', sa.Enum(*KINDS, name='messagekind'), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum(*STATUSES, name='messagestatus'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key')
    )
    with op.batch_alter_table('notification_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_message_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_message_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_message_status'))
        batch_op.drop_index(batch_op.f('ix_notification_message_date'))

    op.drop_table('notification_message')
    # PostgreSQL keeps enum types after their table is dropped.
    sa.Enum(name='messagestatus').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='messagekind').drop(op.get_bind(), checkfirst=True)

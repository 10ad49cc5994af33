"""roads per area: an area may plan on another travel-time provider, and on its own city's
OpenStreetMap extract

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('matrix_provider', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column('osm_extract', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('area', schema=None) as batch_op:
        batch_op.drop_column('osm_extract')
        batch_op.drop_column('matrix_provider')

"""Rate limits: one counter per API key, limited path and fixed window.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_windows',
    sa.Column('api_key_id', sa.String(length=32), nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('window_start', UTCDateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('api_key_id', 'bucket', 'window_start', name=op.f('pk_rate_limit_windows'))
    )


def downgrade() -> None:
    op.drop_table('rate_limit_windows')

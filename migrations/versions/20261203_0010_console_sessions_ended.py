"""Console sessions ended by signing out, so a copied cookie is refused on every replica.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_sessions_ended',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_console_sessions_ended'))
    )
    op.create_index('ix_console_sessions_ended_expires_at', 'console_sessions_ended', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_sessions_ended_expires_at', table_name='console_sessions_ended')
    op.drop_table('console_sessions_ended')

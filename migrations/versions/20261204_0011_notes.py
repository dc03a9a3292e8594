"""Notes a credit manager keeps on a customer or on one of its review cases.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('decision_id', sa.String(length=36), nullable=True),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_notes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    op.create_index('ix_notes_customer_id_created_at', 'notes', ['customer_id', 'created_at'], unique=False)
    op.create_index('ix_notes_decision_id', 'notes', ['decision_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notes_decision_id', table_name='notes')
    op.drop_index('ix_notes_customer_id_created_at', table_name='notes')
    op.drop_table('notes')

"""Decisions: the stored credit decisions and the indexes the history API queries.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 06:13:03.872899
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('decisions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('credit_limit_minor', sa.BigInteger(), nullable=False),
    sa.Column('exposure_minor', sa.BigInteger(), nullable=False),
    sa.Column('available_credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('approved_credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('prepayment_minor', sa.BigInteger(), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('risk_class', sa.String(length=16), nullable=False),
    sa.Column('segment', sa.String(length=32), nullable=False),
    sa.Column('policy_version', sa.String(length=64), nullable=False),
    sa.Column('report_provider', sa.String(length=64), nullable=True),
    sa.Column('report_source', sa.String(length=16), nullable=False),
    sa.Column('reasons', JSONDocument, nullable=False),
    sa.Column('report', JSONDocument, nullable=True),
    sa.Column('request', JSONDocument, nullable=False),
    sa.Column('inputs', JSONDocument, nullable=False),
    sa.Column('timings', JSONDocument, nullable=False),
    sa.Column('api_key_id', sa.String(length=32), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_customer_id_decided_at', ['customer_id', 'decided_at', 'id'], unique=False)
        batch_op.create_index('ix_decisions_decided_at_id', ['decided_at', 'id'], unique=False)
        batch_op.create_index('ix_decisions_order_id_decided_at', ['order_id', 'decided_at', 'id'], unique=False)
        batch_op.create_index('ix_decisions_outcome_decided_at', ['outcome', 'decided_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_outcome_decided_at')
        batch_op.drop_index('ix_decisions_order_id_decided_at')
        batch_op.drop_index('ix_decisions_decided_at_id')
        batch_op.drop_index('ix_decisions_customer_id_decided_at')

    op.drop_table('decisions')

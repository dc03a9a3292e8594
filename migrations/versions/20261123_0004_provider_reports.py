"""Provider reports: the shared report cache, purchase leases, the spend ledger and the insurer's limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('credit_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('registration_number', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('snapshot', JSONDocument, nullable=False),
    sa.Column('raw', JSONDocument, nullable=False),
    sa.Column('raw_hash', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', UTCDateTime(), nullable=False),
    sa.Column('cost_minor', sa.BigInteger(), nullable=False),
    sa.Column('cost_currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_reports'))
    )
    with op.batch_alter_table('credit_reports', schema=None) as batch_op:
        batch_op.create_index(
            'ix_credit_reports_company_fetched_at',
            ['country', 'registration_number', 'provider', 'fetched_at'],
            unique=False,
        )

    op.create_table('report_leases',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('holder', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_report_leases'))
    )

    op.create_table('provider_calls',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('registration_number', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('cost_minor', sa.BigInteger(), nullable=False),
    sa.Column('cost_currency', sa.String(length=3), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('called_at', UTCDateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_calls'))
    )
    with op.batch_alter_table('provider_calls', schema=None) as batch_op:
        batch_op.create_index('ix_provider_calls_day_provider', ['day', 'provider'], unique=False)

    op.create_table('provider_cache_hits',
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hits', sa.BigInteger(), nullable=False),
    sa.Column('stale_hits', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'day', name=op.f('pk_provider_cache_hits'))
    )

    op.create_table('insurer_limits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('registration_number', sa.String(length=32), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('limit_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('insurer_reference', sa.String(length=64), nullable=False),
    sa.Column('risk_class', sa.String(length=1), nullable=True),
    sa.Column('imported_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurer_limits')),
    sa.UniqueConstraint(
        'country', 'registration_number', 'insurer_reference', name='uq_insurer_limits_buyer_reference'
    )
    )


def downgrade() -> None:
    op.drop_table('insurer_limits')
    op.drop_table('provider_cache_hits')
    with op.batch_alter_table('provider_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_calls_day_provider')

    op.drop_table('provider_calls')
    op.drop_table('report_leases')
    with op.batch_alter_table('credit_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_reports_company_fetched_at')

    op.drop_table('credit_reports')

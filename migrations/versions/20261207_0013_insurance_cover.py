"""Credit insurance: covers with their history, the VAT an invoice or order includes, overdue reports,
limit requests to the insurer.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('covers',
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('insurer', sa.String(length=64), nullable=True),
    sa.Column('policy_number', sa.String(length=64), nullable=True),
    sa.Column('buyer_reference', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('coverage_basis_points', sa.Integer(), nullable=False),
    sa.Column('excludes_vat', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('conditions', sa.String(length=2000), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_covers_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_covers'))
    )
    op.create_table('cover_versions',
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cover', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'version', name=op.f('pk_cover_versions'))
    )
    op.create_index('ix_cover_versions_recorded_at', 'cover_versions', ['recorded_at'], unique=False)
    op.create_table('overdue_reports',
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('open_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', 'invoice_id', name=op.f('pk_overdue_reports'))
    )
    op.create_table('insurer_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('insurer', sa.String(length=64), nullable=False),
    sa.Column('insurer_request_id', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('answered_at', UTCDateTime(), nullable=True),
    sa.Column('polled_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_insurer_requests_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurer_requests'))
    )
    op.create_index('ix_insurer_requests_customer_id_requested_at', 'insurer_requests', ['customer_id', 'requested_at'], unique=False)
    op.create_index('ix_insurer_requests_status', 'insurer_requests', ['status'], unique=False)
    # Plain ALTER TABLE: a batch copy of the table would drop and recreate it, which SQLite refuses while other
    # tables' rows (payment arrangements') refer to its rows.
    op.add_column('invoices', sa.Column('vat_minor', sa.BigInteger(), nullable=True))
    op.add_column('reservations', sa.Column('vat_minor', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('reservations', 'vat_minor')
    op.drop_column('invoices', 'vat_minor')
    op.drop_index('ix_insurer_requests_status', table_name='insurer_requests')
    op.drop_index('ix_insurer_requests_customer_id_requested_at', table_name='insurer_requests')
    op.drop_table('insurer_requests')
    op.drop_table('overdue_reports')
    op.drop_index('ix_cover_versions_recorded_at', table_name='cover_versions')
    op.drop_table('cover_versions')
    op.drop_table('covers')

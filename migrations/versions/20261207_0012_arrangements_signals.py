"""Payment arrangements (the arrangements, the invoices each covers, their instalments) and warning signals.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_arrangements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('broken_on', sa.Date(), nullable=True),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('status_changed_at', UTCDateTime(), nullable=False),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payment_arrangements_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_arrangements'))
    )
    op.create_index('ix_payment_arrangements_customer_id_status', 'payment_arrangements', ['customer_id', 'status'], unique=False)
    op.create_table('payment_arrangement_instalments',
    sa.Column('arrangement_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['arrangement_id'], ['payment_arrangements.id'], name='fk_arrangement_instalments_arrangement'),
    sa.PrimaryKeyConstraint('arrangement_id', 'number', name=op.f('pk_payment_arrangement_instalments'))
    )
    op.create_table('payment_arrangement_invoices',
    sa.Column('arrangement_id', sa.String(length=36), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('open_minor_agreed', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['arrangement_id'], ['payment_arrangements.id'], name='fk_arrangement_invoices_arrangement'),
    sa.ForeignKeyConstraint(['customer_id', 'invoice_id'], ['invoices.customer_id', 'invoices.invoice_id'], name='fk_arrangement_invoices_invoice'),
    sa.PrimaryKeyConstraint('arrangement_id', 'invoice_id', name=op.f('pk_payment_arrangement_invoices'))
    )
    op.create_index('ix_payment_arrangement_invoices_customer_id_invoice_id', 'payment_arrangement_invoices', ['customer_id', 'invoice_id'], unique=False)
    op.create_table('warning_signals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('exposure_minor', sa.BigInteger(), nullable=False),
    sa.Column('raised_at', UTCDateTime(), nullable=False),
    sa.Column('acknowledged_at', UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.Column('note_id', sa.String(length=36), nullable=True),
    sa.Column('cleared_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_warning_signals_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_signals')),
    sa.UniqueConstraint('customer_id', 'kind', 'active', name='uq_warning_signals_customer_id_kind_active')
    )
    op.create_index('ix_warning_signals_status_exposure_minor', 'warning_signals', ['status', 'exposure_minor'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_warning_signals_status_exposure_minor', table_name='warning_signals')
    op.drop_table('warning_signals')
    op.drop_index('ix_payment_arrangement_invoices_customer_id_invoice_id', table_name='payment_arrangement_invoices')
    op.drop_table('payment_arrangement_invoices')
    op.drop_table('payment_arrangement_instalments')
    op.drop_index('ix_payment_arrangements_customer_id_status', table_name='payment_arrangements')
    op.drop_table('payment_arrangements')

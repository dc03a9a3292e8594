"""Limit requests and their reviews, temporary uplifts on customers, who and why in the limit history.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'limit_requests',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('current_limit_minor', sa.BigInteger(), nullable=True),
        sa.Column('starts_at', UTCDateTime(), nullable=True),
        sa.Column('ends_at', UTCDateTime(), nullable=True),
        sa.Column('reason', sa.String(length=2000), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requester_role', sa.String(length=16), nullable=False),
        sa.Column('valid_until', UTCDateTime(), nullable=False),
        sa.Column('four_eyes', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('proposal', JSONDocument, nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.id'], name=op.f('fk_limit_requests_customer_id_customers')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_limit_requests')),
    )
    op.create_index('ix_limit_requests_status_created_at', 'limit_requests', ['status', 'created_at'], unique=False)
    op.create_index(
        'ix_limit_requests_customer_id_created_at', 'limit_requests', ['customer_id', 'created_at'], unique=False
    )
    op.create_table(
        'limit_request_reviews',
        sa.Column('request_id', sa.String(length=36), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('reviewer', sa.String(length=64), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('final', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=2000), nullable=False),
        sa.Column('reviewed_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['request_id'], ['limit_requests.id'], name=op.f('fk_limit_request_reviews_request_id_limit_requests')
        ),
        sa.PrimaryKeyConstraint('request_id', 'step', name=op.f('pk_limit_request_reviews')),
    )
    # Plain ADD/DROP COLUMN (SQLite 3.35+ has both): a batch copy of `customers` would trip the foreign keys
    # that point at it.
    op.add_column('customers', sa.Column('uplift_minor', sa.BigInteger(), nullable=True))
    op.add_column('customers', sa.Column('uplift_starts_at', UTCDateTime(), nullable=True))
    op.add_column('customers', sa.Column('uplift_ends_at', UTCDateTime(), nullable=True))
    op.add_column('customers', sa.Column('uplift_reason', sa.String(length=500), nullable=True))
    op.add_column('credit_limit_history', sa.Column('actor', sa.String(length=64), nullable=True))
    op.add_column('credit_limit_history', sa.Column('reason', sa.String(length=2000), nullable=True))
    op.add_column('credit_limit_history', sa.Column('request_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    for column in ('request_id', 'reason', 'actor'):
        op.drop_column('credit_limit_history', column)
    for column in ('uplift_reason', 'uplift_ends_at', 'uplift_starts_at', 'uplift_minor'):
        op.drop_column('customers', column)
    op.drop_table('limit_request_reviews')
    op.drop_index('ix_limit_requests_customer_id_created_at', table_name='limit_requests')
    op.drop_index('ix_limit_requests_status_created_at', table_name='limit_requests')
    op.drop_table('limit_requests')

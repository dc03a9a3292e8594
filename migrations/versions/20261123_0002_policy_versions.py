"""Policy versions: stored policy documents and the activation log that names the active one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('policy_versions',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('document', JSONDocument, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_policy_versions'))
    )
    op.create_table('policy_activations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('activated_at', UTCDateTime(), nullable=False),
    sa.Column('activated_by', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['version'], ['policy_versions.version'], name=op.f('fk_policy_activations_version_policy_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_activations'))
    )
    with op.batch_alter_table('policy_activations', schema=None) as batch_op:
        batch_op.create_index('ix_policy_activations_version_id', ['version', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('policy_activations', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_activations_version_id')

    op.drop_table('policy_activations')
    op.drop_table('policy_versions')

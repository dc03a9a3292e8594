"""Review cases: the decisions waiting for a person, so the queue never walks the settled history.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_cases',
    sa.Column('decision_id', sa.String(length=36), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_review_cases'))
    )
    op.create_index('ix_review_cases_decided_at', 'review_cases', ['decided_at', 'decision_id'], unique=False)
    # The cases open now: decisions sent to review that no final review settled.
    decisions = sa.table('decisions', sa.column('id'), sa.column('decided_at'), sa.column('outcome'))
    reviews = sa.table('reviews', sa.column('decision_id'), sa.column('final', sa.Boolean()))
    settled = sa.exists().where(reviews.c.decision_id == decisions.c.id, reviews.c.final.is_(True))
    open_now = sa.select(decisions.c.id, decisions.c.decided_at).where(decisions.c.outcome == 'review', ~settled)
    op.execute(sa.table('review_cases', sa.column('decision_id'), sa.column('decided_at')).insert().from_select(
        ['decision_id', 'decided_at'], open_now
    ))


def downgrade() -> None:
    op.drop_index('ix_review_cases_decided_at', table_name='review_cases')
    op.drop_table('review_cases')

"""Audit: the hash-chained append-only event log and its head; decision reasons and history indexes.

The audit_events table refuses UPDATE and DELETE by trigger on PostgreSQL and on SQLite. On PostgreSQL it
refuses TRUNCATE too, unless the session says `SET LOCAL creditgate.audit_maintenance = 'on'` (the test
harness does, to empty every table between tests).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:25:40.698482
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.db import UTCDateTime

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64

POSTGRES_GUARD = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('creditgate.audit_maintenance', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
)


def upgrade() -> None:
    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('subject_id', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('occurred_at', UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_subject_id_seq', ['subject_id', 'seq'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_GUARD)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)

    op.create_table('decision_reasons',
    sa.Column('decision_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_reasons_decision_id_decisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('decision_id', 'code', name=op.f('pk_decision_reasons'))
    )
    with op.batch_alter_table('decision_reasons', schema=None) as batch_op:
        batch_op.create_index('ix_decision_reasons_code_decided_at', ['code', 'decided_at', 'decision_id'], unique=False)

    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_currency_amount_minor', ['currency', 'amount_minor'], unique=False)
        batch_op.create_index('ix_decisions_policy_version_decided_at', ['policy_version', 'decided_at', 'id'], unique=False)
        batch_op.create_index('ix_decisions_report_provider_decided_at', ['report_provider', 'decided_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_report_provider_decided_at')
        batch_op.drop_index('ix_decisions_policy_version_decided_at')
        batch_op.drop_index('ix_decisions_currency_amount_minor')

    with op.batch_alter_table('decision_reasons', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_reasons_code_decided_at')

    op.drop_table('decision_reasons')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject_id_seq')

    # Dropping the table drops its triggers; the PostgreSQL function goes after it.
    op.drop_table('audit_events')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table('audit_chain_head')

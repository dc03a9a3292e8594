"""Triggers write a decision's reason rows and move the audit chain's head, in place of two app statements.

AFTER INSERT ON decisions, for each row: one decision_reasons row per distinct code of the new row's `reasons`
(a JSON list of objects with a "code"), with its id and decided_at copied as stored (on SQLite the very text
the app wrote, which the history's decided_at ranges on decision_reasons compare). An empty list adds nothing.
AFTER INSERT ON audit_events: audit_chain_head takes the newest inserted event's seq and hash, unless the head
is already at that seq or past it (an insert out of order never moves it back). On PostgreSQL the trigger runs
once per statement, over the statement's inserted rows: every update of a row leaves a version behind that the
same transaction cannot prune, so a row trigger moving the one head row per event made a long append slower
with every event (quadratic); SQLite has no such versions and runs it per row. The head row is still locked
(SELECT ... FOR UPDATE) by every append before it inserts, and rebuilt from the last event when missing.

Nothing to backfill: the app wrote both until now. On SQLite, a later batch_alter_table that recreates
decisions or audit_events drops their triggers with the old table: such a revision must create these again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# decisions.reasons is JSONB on PostgreSQL (JSON text on SQLite): see migration 0001.
POSTGRES_FUNCTIONS = (
    """
CREATE FUNCTION decisions_insert_reasons() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO decision_reasons (decision_id, code, decided_at)
    SELECT DISTINCT NEW.id, reason ->> 'code', NEW.decided_at FROM jsonb_array_elements(NEW.reasons) AS reason;
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION audit_events_move_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_chain_head AS head SET seq = newest.seq, hash = newest.hash
    FROM (SELECT seq, hash FROM inserted_events ORDER BY seq DESC LIMIT 1) AS newest
    WHERE head.id = 1 AND head.seq < newest.seq;
    RETURN NULL;
END
$$
""",
)
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER decisions_insert_reasons AFTER INSERT ON decisions "
    "FOR EACH ROW EXECUTE FUNCTION decisions_insert_reasons()",
    "CREATE TRIGGER audit_events_move_head AFTER INSERT ON audit_events "
    "REFERENCING NEW TABLE AS inserted_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_move_head()",
)
POSTGRES_DOWNGRADE = (
    "DROP TRIGGER audit_events_move_head ON audit_events",
    "DROP TRIGGER decisions_insert_reasons ON decisions",
    "DROP FUNCTION audit_events_move_head()",
    "DROP FUNCTION decisions_insert_reasons()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER decisions_insert_reasons AFTER INSERT ON decisions FOR EACH ROW BEGIN "
    "INSERT INTO decision_reasons (decision_id, code, decided_at) "
    "SELECT DISTINCT NEW.id, json_extract(reason.value, '$.code'), NEW.decided_at FROM json_each(NEW.reasons) AS reason; "
    "END",
    "CREATE TRIGGER audit_events_move_head AFTER INSERT ON audit_events FOR EACH ROW BEGIN "
    "UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1 AND seq < NEW.seq; "
    "END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER audit_events_move_head",
    "DROP TRIGGER decisions_insert_reasons",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*POSTGRES_FUNCTIONS, *POSTGRES_TRIGGERS):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRES_DOWNGRADE if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWNGRADE:
        op.execute(statement)

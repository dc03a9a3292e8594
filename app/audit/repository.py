"""Every query on the audit log."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Text, cast, func, insert, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.canonical import GENESIS_HASH, Head
from app.audit.models import AuditChainHead, AuditEvent
from app.chunks import chunks
from app.db import WriteSession, core, table_of

HEAD_ID = 1

# Every append runs these: built once, executed with parameters. The head follows the inserted events by
# trigger (migration 0015): it is never updated from here.
INSERT_EVENT = insert(table_of(AuditEvent))
# Appends of more events than FEW_EVENTS insert them EVENTS_PER_STATEMENT to a statement (8 parameters each).
FEW_EVENTS = 64
EVENTS_PER_STATEMENT = 1000
LOCK_HEAD = select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID).with_for_update()


class StoredEvent(NamedTuple):
    """An event as read back for verification: the payload as JSON text, the time in canonical RFC 3339."""

    seq: int
    event_type: str
    subject_id: str
    payload_json: str
    occurred_at: str
    actor: str
    prev_hash: str
    hash: str


async def lock_head(session: WriteSession) -> Head:
    """The chain head, locked until the caller's transaction ends (SELECT ... FOR UPDATE on PostgreSQL).

    On SQLite the transaction already holds the database's write lock (BEGIN IMMEDIATE), and FOR UPDATE is
    not rendered. A missing head row (a fresh or emptied table) is rebuilt from the last stored event.
    """
    row = (await (await core(session)).execute(LOCK_HEAD)).first()
    if row is None:
        await _create_head(session)
        row = (await session.execute(LOCK_HEAD)).one()
    return Head(row.seq, row.hash)


async def _create_head(session: WriteSession) -> None:
    last = (
        await session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1))
    ).first()
    values = {"id": HEAD_ID, "seq": last.seq if last else 0, "hash": last.hash if last else GENESIS_HASH}
    dialect = session.get_bind().dialect.name
    # Two replicas may both find no row: the loser's insert does nothing and it then locks the winner's row.
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(AuditChainHead).values(**values)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["id"]))


async def read_head(session: AsyncSession) -> Head | None:
    row = (await session.execute(select(AuditChainHead.seq, AuditChainHead.hash))).first()
    return Head(row.seq, row.hash) if row else None


async def insert_events(session: WriteSession, rows: list[dict[str, Any]]) -> None:
    """The rows in one statement per chunk (the database's trigger moves the chain head after each statement).

    A few rows, a decision's or a shared transaction's, go through the statement built once; more go as
    multi-row INSERTs built for them: executed row by row, PostgreSQL's head trigger would run once per row.
    """
    connection = await core(session)
    if len(rows) <= FEW_EVENTS:
        await connection.execute(INSERT_EVENT, rows[0] if len(rows) == 1 else rows)
        return
    for chunk in chunks(rows, EVENTS_PER_STATEMENT):
        await connection.execute(insert(table_of(AuditEvent)).values(list(chunk)))


async def events_after(session: AsyncSession, after_seq: int, limit: int) -> Sequence[StoredEvent]:
    """Up to `limit` events with seq > after_seq, in seq order (keyset paging on the primary key).

    Core rows on the table's columns rather than ORM entities: verification reads millions of them."""
    events = AuditEvent.__table__.c
    occurred_at: ColumnElement[str]
    if session.get_bind().dialect.name == "postgresql":
        occurred_at = func.to_char(func.timezone("UTC", events.occurred_at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    else:
        # SQLite stores UTC as "YYYY-MM-DD HH:MM:SS.ffffff" (always six digits of microseconds).
        occurred_at = func.replace(cast(events.occurred_at, Text), " ", "T").concat("Z")
    query = (
        select(
            events.seq,
            events.event_type,
            events.subject_id,
            # The stored canonical text itself, not parsed: the hash covers exactly these bytes.
            type_coerce(events.payload, Text).label("payload_json"),
            occurred_at.label("occurred_at"),
            events.actor,
            events.prev_hash,
            events.hash,
        )
        .where(events.seq > after_seq)
        .order_by(events.seq)
        .limit(limit)
    )
    connection = await session.connection()
    # The rows have StoredEvent's fields by name and position; no copy into tuples is needed.
    return typing.cast(Sequence[StoredEvent], (await connection.execute(query)).all())


async def events_for_subject(session: AsyncSession, subject_id: str) -> Sequence[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.subject_id == subject_id).order_by(AuditEvent.seq)
    return list((await session.scalars(query)).all())

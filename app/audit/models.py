"""The audit log's tables: the append-only events and the one-row head that serialises appends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, CheckConstraint, Dialect, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.audit.canonical import canonical_bytes, normalise
from app.db import Base, UTCDateTime


class CanonicalJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as its canonical text (sorted keys, no whitespace), byte for byte what the hash
    covers. Plain text rather than JSONB, which would reorder and re-space it; PostgreSQL can still query it
    with `payload::jsonb`."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        return None if value is None else canonical_bytes(normalise(value)).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        return None if value is None else dict(orjson.loads(value))


class AuditEvent(Base):
    """One event. The migration adds triggers that refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_events_subject_id_seq", "subject_id", "seq"),)


class AuditChainHead(Base):
    """The last appended event's seq and hash. Locking this row is what serialises appends across replicas."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

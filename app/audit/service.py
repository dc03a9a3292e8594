"""Appending to the audit log, inside the caller's own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.canonical import canonical_bytes, event_hash, normalise, rfc3339
from app.db import utcnow


class EventType(StrEnum):
    """Every kind of event the log holds; the values are stable and part of the stored record."""

    DECISION_CREATED = "decision.created"
    DECISION_REVIEWED = "decision.reviewed"
    POLICY_CREATED = "policy.created"
    POLICY_ACTIVATED = "policy.activated"
    CUSTOMER_CREDIT_CHANGED = "customer.credit_changed"
    CUSTOMER_CREDIT_REASSESSED = "customer.credit_reassessed"
    REPORT_PURCHASED = "report.purchased"
    RETENTION_PURGED = "retention.purged"


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    seq: int
    hash: str


async def append(
    session: AsyncSession, event_type: EventType, subject_id: str, payload: Mapping[str, Any], actor: str
) -> AppendedEvent:
    """Append one event in the caller's transaction; it lands or vanishes with the change it records.

    Never commits. It locks the chain head until the caller's transaction ends, so call it as the last
    statement before the commit: appends from every replica queue on that lock, and the shorter the time
    between this call and the commit, the shorter the queue.
    """
    # Everything that needs no lock happens before it is taken.
    body = normalise(payload)
    body_json = canonical_bytes(body)
    head = await repository.lock_head(session)
    seq = head.seq + 1
    occurred_at = utcnow()
    digest = event_hash(
        seq=seq,
        event_type=event_type.value,
        subject_id=subject_id,
        payload_json=body_json,
        occurred_at=rfc3339(occurred_at),
        actor=actor,
        prev_hash=head.hash,
    )
    await repository.insert_event(
        session,
        {
            "seq": seq,
            "event_type": event_type.value,
            "subject_id": subject_id,
            "payload": body,
            "occurred_at": occurred_at,
            "actor": actor,
            "prev_hash": head.hash,
            "hash": digest,
        },
    )
    await repository.move_head(session, repository.Head(seq, digest))
    return AppendedEvent(seq, digest)

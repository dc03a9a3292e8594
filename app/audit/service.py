"""Appending to the audit log, inside the caller's own transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.audit import repository
from app.audit.canonical import canonical_bytes, event_hash, normalise, rfc3339
from app.db import WriteSession, utcnow


class EventType(StrEnum):
    """Every kind of event the log holds; the values are stable and part of the stored record."""

    DECISION_CREATED = "decision.created"
    DECISION_REVIEWED = "decision.reviewed"
    POLICY_CREATED = "policy.created"
    POLICY_ACTIVATED = "policy.activated"
    CUSTOMER_CREDIT_CHANGED = "customer.credit_changed"
    CUSTOMER_CREDIT_REASSESSED = "customer.credit_reassessed"
    COVER_CHANGED = "cover.changed"
    OVERDUE_REPORTED = "overdue.reported"
    INSURER_REQUEST_CREATED = "insurer_request.created"
    INSURER_REQUEST_ANSWERED = "insurer_request.answered"
    NOTE_ADDED = "note.added"
    ARRANGEMENT_CREATED = "arrangement.created"
    ARRANGEMENT_CHANGED = "arrangement.changed"
    ARRANGEMENT_CANCELLED = "arrangement.cancelled"
    SIGNAL_RAISED = "signal.raised"
    SIGNAL_ACKNOWLEDGED = "signal.acknowledged"
    SIGNAL_CLEARED = "signal.cleared"
    LIMIT_REQUEST_CREATED = "limit_request.created"
    LIMIT_REQUEST_REVIEWED = "limit_request.reviewed"
    LIMIT_REVIEW_CONFIRMED = "limit.review_confirmed"
    REPORT_PURCHASED = "report.purchased"
    RETENTION_PURGED = "retention.purged"


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_type: EventType
    subject_id: str
    payload: Mapping[str, Any]
    actor: str


async def append(
    session: WriteSession, event_type: EventType, subject_id: str, payload: Mapping[str, Any], actor: str
) -> AppendedEvent:
    """Append one event in the caller's transaction; it lands or vanishes with the change it records.

    Never commits. It locks the chain head until the caller's transaction ends, so call it as the last
    statement before the commit: appends from every replica queue on that lock, and the shorter the time
    between this call and the commit, the shorter the queue.
    """
    (appended,) = await append_many(session, [NewEvent(event_type, subject_id, payload, actor)])
    return appended


async def append_many(session: WriteSession, events: Sequence[NewEvent]) -> list[AppendedEvent]:
    """Append events in order, chained one to the next: one head lock and one insert. A trigger on audit_events
    (migration 0015) moves the head to each inserted event, in the insert itself."""
    if not events:
        return []
    # Everything that needs no lock happens before it is taken.
    bodies = [normalise(event.payload) for event in events]
    head = await repository.lock_head(session)
    occurred_at = utcnow()
    rows: list[dict[str, Any]] = []
    appended: list[AppendedEvent] = []
    seq, prev_hash = head.seq, head.hash
    for event, body in zip(events, bodies, strict=True):
        seq += 1
        digest = event_hash(
            seq=seq,
            event_type=event.event_type.value,
            subject_id=event.subject_id,
            payload_json=canonical_bytes(body),
            occurred_at=rfc3339(occurred_at),
            actor=event.actor,
            prev_hash=prev_hash,
        )
        rows.append(
            {
                "seq": seq,
                "event_type": event.event_type.value,
                "subject_id": event.subject_id,
                "payload": body,
                "occurred_at": occurred_at,
                "actor": event.actor,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        appended.append(AppendedEvent(seq, digest))
        prev_hash = digest
    await repository.insert_events(session, rows)
    return appended

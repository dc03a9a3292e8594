"""The purge: decisions strictly older than the retention period go, in batches, each with its audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.audit.service import EventType, append
from app.db import Database, utcnow
from app.decisions import repository as decisions

DEFAULT_BATCH = 5000


@dataclass(frozen=True, slots=True)
class PurgeResult:
    cutoff: datetime
    deleted: int
    audit_seqs: tuple[int, ...]


def retention_cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    """Decisions taken before this instant are past retention; anything at or after it is kept."""
    if retention_days < 1:
        raise ValueError("retention is at least one day")
    return (now or utcnow()) - timedelta(days=retention_days)


async def count_past_retention(database: Database, retention_days: int, now: datetime | None = None) -> int:
    async with database.read() as session:
        return await decisions.count_decided_before(session, retention_cutoff(retention_days, now))


async def purge_decisions(
    database: Database,
    retention_days: int,
    *,
    actor: str,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> PurgeResult:
    """Deletes in batches so no transaction holds locks for long; every batch (an empty one included, so a
    purge that found nothing is on record too) commits together with its `retention.purged` event.
    Audit events themselves are never deleted."""
    cutoff = retention_cutoff(retention_days, now)
    deleted = 0
    seqs: list[int] = []
    while True:
        async with database.transaction() as session:
            batch = await decisions.oldest_decided_before(session, cutoff, batch_size)
            if batch:
                await decisions.delete_decisions(session, [row.id for row in batch])
            payload = {
                "table": "decisions",
                "cutoff": cutoff,
                "retention_days": retention_days,
                "deleted": len(batch),
                "oldest_decided_at": batch[0].decided_at if batch else None,
                "newest_decided_at": batch[-1].decided_at if batch else None,
            }
            event = await append(session, EventType.RETENTION_PURGED, "decisions", payload, actor)
        deleted += len(batch)
        seqs.append(event.seq)
        if len(batch) < batch_size:
            return PurgeResult(cutoff, deleted, tuple(seqs))

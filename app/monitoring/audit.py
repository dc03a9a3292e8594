"""Monitoring's audit trail.

`_audit` is the single call site for monitoring's audit events. Until the shared audit log is on main it
records into `monitoring_audit_events`; at merge, its body becomes `await app.audit.append(session,
event_type, subject_id, payload, actor)` — same transaction as the change, same arguments.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.monitoring.models import MonitoringAuditEvent


async def _audit(session: AsyncSession, event_type: str, subject_id: str, payload: dict[str, Any], actor: str) -> None:
    await session.execute(
        insert(MonitoringAuditEvent).values(
            id=str(uuid.uuid4()),
            event_type=event_type,
            subject_id=subject_id,
            payload=payload,
            actor=actor,
            created_at=utcnow(),
        )
    )

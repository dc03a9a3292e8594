"""Copies of the audit log to tamper with, and events appended straight through the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit.models import AuditChainHead, AuditEvent
from app.audit.service import EventType, append
from app.db import Database, create_engine

AUDIT_TABLES = [AuditEvent.__table__, AuditChainHead.__table__]


async def copy_log(source: AsyncEngine, path: Path) -> str:
    """The audit tables, rows and all, in a fresh SQLite file without the append-only triggers."""
    url = f"sqlite+aiosqlite:///{path}"
    target = create_engine(url)
    async with target.begin() as connection:
        await connection.run_sync(lambda sync: AuditEvent.metadata.create_all(sync, tables=AUDIT_TABLES))
    for table in AUDIT_TABLES:
        async with source.connect() as connection:
            rows = [dict(row._mapping) for row in await connection.execute(select(table))]
        if rows:
            async with target.begin() as connection:
                await connection.execute(table.insert(), rows)
    await target.dispose()
    return url


async def append_events(database: Database, count: int, *, actor: str = "key_test", prefix: str = "S") -> None:
    for index in range(count):
        payload: dict[str, Any] = {"index": index, "amount": "12.50", "codes": ["WITHIN_LIMIT"]}
        async with database.transaction() as session:
            await append(session, EventType.DECISION_CREATED, f"{prefix}-{index}", payload, actor)

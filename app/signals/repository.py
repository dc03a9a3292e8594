"""Every query on early-warning signals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.chunks import chunks
from app.db import WriteSession, dialect_insert
from app.signals.models import WarningSignal


async def active_signals(session: AsyncSession, customer_ids: Sequence[str]) -> list[WarningSignal]:
    """Open and acknowledged signals of the customers."""
    found: list[WarningSignal] = []
    for chunk in chunks(list(customer_ids)):
        query = select(WarningSignal).where(WarningSignal.customer_id.in_(chunk), WarningSignal.active.is_(True))
        found.extend((await session.scalars(query.execution_options(populate_existing=True))).all())
    return found


async def raise_signals(session: WriteSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert each row unless its customer has an active signal of its kind already; the ids inserted.

    The unique constraint decides, so two transactions (or replicas) raising the same signal at once store
    one; the other's insert does nothing."""
    inserted: set[str] = set()
    insert = dialect_insert(session)
    for row in rows:
        statement = (
            insert(WarningSignal)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["customer_id", "kind", "active"])
            .returning(WarningSignal.id)
        )
        if (await session.execute(statement)).scalar_one_or_none() is not None:
            inserted.add(row["id"])
    return inserted


async def set_exposure(session: WriteSession, signal_ids: Sequence[str], exposure_minor: int) -> None:
    if signal_ids:
        await session.execute(
            update(WarningSignal).where(WarningSignal.id.in_(list(signal_ids))).values(exposure_minor=exposure_minor)
        )


async def clear(session: WriteSession, signal_ids: Sequence[str], at: datetime) -> None:
    if signal_ids:
        await session.execute(
            update(WarningSignal)
            .where(WarningSignal.id.in_(list(signal_ids)))
            .values(status="cleared", active=None, cleared_at=at)
        )


async def get_signal(
    session: AsyncSession, customer_id: str, signal_id: str, *, lock: bool = False
) -> WarningSignal | None:
    query = select(WarningSignal).where(WarningSignal.id == signal_id, WarningSignal.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def acknowledge(session: WriteSession, signal_id: str, actor: str, note_id: str, at: datetime) -> None:
    await session.execute(
        update(WarningSignal)
        .where(WarningSignal.id == signal_id)
        .values(status="acknowledged", acknowledged_at=at, acknowledged_by=actor, note_id=note_id)
    )


async def signals_of(session: AsyncSession, customer_id: str, limit: int) -> list[WarningSignal]:
    query = (
        select(WarningSignal)
        .where(WarningSignal.customer_id == customer_id)
        .order_by(WarningSignal.raised_at.desc(), WarningSignal.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def signals_by_exposure(session: AsyncSession, status: str, limit: int) -> list[WarningSignal]:
    """Signals in a status, the most exposed customers first (ties: newest first)."""
    query = (
        select(WarningSignal)
        .where(WarningSignal.status == status)
        .order_by(WarningSignal.exposure_minor.desc(), WarningSignal.raised_at.desc(), WarningSignal.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())

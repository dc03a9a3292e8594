"""Every query on notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import WriteSession
from app.decisions.models import Decision
from app.notes.models import Note


async def add(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(Note).values(**values))


async def decision_customer(session: AsyncSession, decision_id: str) -> str | None:
    """The customer a stored decision is for, or None when there is no such decision."""
    found: str | None = await session.scalar(select(Decision.customer_id).where(Decision.id == decision_id))
    return found


async def notes(session: AsyncSession, customer_id: str, decision_id: str | None, limit: int) -> Sequence[Note]:
    """Newest first; only the decision's when `decision_id` is given."""
    statement = select(Note).where(Note.customer_id == customer_id)
    if decision_id is not None:
        statement = statement.where(Note.decision_id == decision_id)
    statement = statement.order_by(Note.created_at.desc(), Note.id.desc()).limit(limit)
    return (await session.scalars(statement)).all()

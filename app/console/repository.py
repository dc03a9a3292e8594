"""The console's own queries: a customer's exposure over time, the ageing of its open invoices, ended sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.console.models import EndedConsoleSession
from app.customers.models import Invoice
from app.customers.repository import ageing_bucket
from app.db import WriteSession, exact_sum
from app.decisions.models import Decision

AGEING_BUCKETS = ("not due", "1-30", "31-60", "61-90", "90+")


async def exposure_points(session: AsyncSession, customer_id: str, since: datetime, limit: int) -> Sequence[Any]:
    """(decided_at, currency, exposure_minor, credit_limit_minor) of the customer's latest decisions since `since`.

    Each decision recorded the exposure as it stood before its order: the points of the exposure curve.
    Served by the (customer_id, decided_at, id) index, newest first, so the cost is bounded by `limit`.
    """
    query = (
        select(Decision.decided_at, Decision.currency, Decision.exposure_minor, Decision.credit_limit_minor)
        .where(Decision.customer_id == customer_id, Decision.decided_at >= since)
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def ageing(session: AsyncSession, customer_id: str, today: date) -> Sequence[Any]:
    """(bucket, currency, open_amount_minor) of the customer's open invoices by days past due."""
    bucket = ageing_bucket(today, AGEING_BUCKETS)
    query = (
        select(bucket, Invoice.currency, exact_sum(Invoice.open_amount_minor))
        .where(Invoice.customer_id == customer_id, Invoice.open_amount_minor > 0)
        .group_by(bucket, Invoice.currency)
    )
    return (await session.execute(query)).all()


async def end_session(session: WriteSession, nonce: str, expires_at: datetime, now: datetime) -> None:
    """List the session as ended until its cookie would have expired; forget those that have."""
    await session.execute(delete(EndedConsoleSession).where(EndedConsoleSession.expires_at <= now))
    if not await session.scalar(select(exists().where(EndedConsoleSession.nonce == nonce))):
        await session.execute(insert(EndedConsoleSession).values(nonce=nonce, expires_at=expires_at))


async def session_ended(session: AsyncSession, nonce: str) -> bool:
    return bool(await session.scalar(select(exists().where(EndedConsoleSession.nonce == nonce))))

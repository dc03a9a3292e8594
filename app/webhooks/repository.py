"""Every query on webhook subscriptions, outbox events and deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import WriteSession
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription


async def insert_subscription(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(WebhookSubscription).values(**values))


async def list_subscriptions(session: AsyncSession) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.active).order_by(WebhookSubscription.created_at)
    return list((await session.scalars(query)).all())


async def get_subscription(session: AsyncSession, subscription_id: str) -> WebhookSubscription | None:
    row = await session.get(WebhookSubscription, subscription_id)
    return row if row is not None and row.active else None


async def delete_subscription(session: WriteSession, subscription_id: str) -> bool:
    """Deactivated, not erased: its delivery log stays readable for the audit, and nothing more is sent."""
    result = await session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.active)
        .values(active=False)
    )
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == "pending")
        .values(status="failed", last_error="subscription deleted")
    )
    return bool(getattr(result, "rowcount", 0))


async def insert_event(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(WebhookEvent).values(**values))


async def insert_deliveries(session: WriteSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), rows)


async def any_due(session: AsyncSession, now: datetime) -> bool:
    """A cheap read first: an idle dispatcher never takes a write lock (SQLite has only one)."""
    query = select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending",
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
    )
    return (await session.scalar(query.limit(1))) is not None


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """Pending deliveries, and the attempt time of the longest-waiting one that is due (for /metrics)."""
    pending = WebhookDelivery.status == "pending"
    count = await session.scalar(select(func.count()).select_from(WebhookDelivery).where(pending))
    oldest = await session.scalar(
        select(func.min(WebhookDelivery.next_attempt_at)).where(pending, WebhookDelivery.next_attempt_at <= now)
    )
    return count or 0, oldest


async def claim_due(session: WriteSession, now: datetime, until: datetime, token: str, limit: int) -> list[str]:
    """Claim due deliveries no one holds. PostgreSQL skips rows another dispatcher has locked;
    SQLite has taken the write lock with the transaction, so the claim column decides there."""
    unclaimed = or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now)
    query = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, unclaimed)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.scalars(query)).all())
    if ids:
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(claimed_until=until, claim_token=token)
        )
    return ids


async def claimed(session: AsyncSession, ids: Sequence[str]) -> list[tuple[WebhookDelivery, WebhookEvent, str, str]]:
    """Each claimed delivery with its event, URL and secret."""
    query = (
        select(WebhookDelivery, WebhookEvent, WebhookSubscription.url, WebhookSubscription.secret)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(ids))
    )
    return [(row[0], row[1], row[2], row[3]) for row in (await session.execute(query)).all()]


async def record_attempt(session: WriteSession, delivery_id: str, token: str, values: dict[str, Any]) -> None:
    """Only the claim's holder records its attempt: a dispatcher whose claim ran out changes nothing."""
    await session.execute(
        update(WebhookDelivery)
        .where(and_(WebhookDelivery.id == delivery_id, WebhookDelivery.claim_token == token))
        .values(**values, claimed_until=None, claim_token=None)
    )


async def deliveries(session: AsyncSession, subscription_id: str, limit: int) -> Sequence[Any]:
    query = (
        select(WebhookDelivery, WebhookEvent.event_type)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def get_delivery(session: AsyncSession, subscription_id: str, delivery_id: str) -> WebhookDelivery | None:
    row = await session.get(WebhookDelivery, delivery_id)
    return row if row is not None and row.subscription_id == subscription_id else None

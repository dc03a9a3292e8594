"""What /metrics reads from the database on each scrape: the open review cases and the webhook backlog (the API
reads no repository itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.reviews import repository as reviews
from app.webhooks import repository as webhooks


async def open_reviews(session: AsyncSession) -> int:
    """Decisions sent to review that no review has settled yet."""
    return await reviews.count_awaiting_review(session)


async def webhook_backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """Pending deliveries, and the attempt time of the longest-waiting one that is due."""
    return await webhooks.backlog(session, now)

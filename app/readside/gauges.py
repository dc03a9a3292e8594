"""What /metrics reads from the database on each scrape: the open review cases and the webhook backlog (the API
reads no repository itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.db import Database
from app.reviews import repository as reviews
from app.webhooks import repository as webhooks


@dataclass(frozen=True, slots=True)
class Gauges:
    open_reviews: int  # decisions sent to review that no review has settled yet
    webhooks_pending: int
    oldest_due: datetime | None  # the attempt time of the longest-waiting delivery that is due


class GaugeService:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def read(self, now: datetime) -> Gauges:
        async with self.database.read() as session:
            open_reviews = await reviews.count_awaiting_review(session)
            pending, oldest_due = await webhooks.backlog(session, now)
        return Gauges(open_reviews, pending, oldest_due)

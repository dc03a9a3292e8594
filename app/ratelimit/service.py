"""A fixed-window counter per API key in the database: every replica counts against the same row."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from app.db import Database, utcnow
from app.errors import TooManyRequests
from app.ratelimit import repository


class RateLimiter:
    """At most `limit` requests per key and `window_seconds`; a limit of 0 turns it off."""

    def __init__(self, database: Database, bucket: str, limit: int, window_seconds: int) -> None:
        self.database = database
        self.bucket = bucket
        self.limit = limit
        self.window_seconds = window_seconds

    async def hit(self, api_key_id: str) -> None:
        """Count one request; raise TooManyRequests once the key has used up its window."""
        if self.limit <= 0:
            return
        now = utcnow()
        epoch = int(now.timestamp())
        start = datetime.fromtimestamp(epoch - epoch % self.window_seconds, UTC)
        async with self.database.transaction() as session:
            count = await repository.count_request(session, api_key_id, self.bucket, start)
            if count == 1:  # the key's first request in a new window: forget its older windows
                await repository.drop_windows_before(session, api_key_id, self.bucket, start)
        if count > self.limit:
            retry_after = max(1, math.ceil(start.timestamp() + self.window_seconds - now.timestamp()))
            raise TooManyRequests(
                f"this API key may send {self.limit} requests per {self.window_seconds} s here; "
                f"retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )

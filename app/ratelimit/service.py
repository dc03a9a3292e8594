"""A fixed-window counter per API key in the database, claimed in blocks: every replica counts against the same
row, and a decision touches that row only once per block.

Counting each request in a write transaction of its own put one more commit, and on SQLite one more turn at the
single writer, in front of every decision. Instead a process claims a block of the window's budget at once
(`count = count + block`, in one upsert) and spends it from memory; the row never grants more than the limit, so
however many replicas claim, a key gets at most `limit` decisions per window. What a replica has claimed but not
spent when the window ends is lost: at most one block per replica and key, a fiftieth of the limit. Once the row
says the window is used up, the process refuses the key's further requests without asking again until the
window turns.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from app.db import Database, utcnow
from app.errors import TooManyRequests
from app.ratelimit import repository

# A block is this fraction of the limit (at least one request): with a limit of 6,000 a process asks the database
# once per 120 decisions, and at most 120 per replica are left unspent at the end of a window.
BLOCKS_PER_WINDOW = 50


@dataclass(slots=True)
class _Budget:
    """What this process may still spend of one key's window."""

    window_start: datetime
    left: int
    used_up: bool = False  # the database has no more to give in this window


class RateLimiter:
    """At most `limit` requests per key and `window_seconds`, across replicas; a limit of 0 turns it off."""

    def __init__(self, database: Database, bucket: str, limit: int, window_seconds: int) -> None:
        self.database = database
        self.bucket = bucket
        self.limit = limit
        self.window_seconds = window_seconds
        self.block = max(1, limit // BLOCKS_PER_WINDOW)
        self.claims = 0  # database round trips so far: what the bench reports per decision
        self._budgets: dict[str, _Budget] = {}
        self._claiming: dict[str, asyncio.Lock] = {}

    async def hit(self, api_key_id: str) -> None:
        """Count one request; raise TooManyRequests once the key has used up its window."""
        if self.limit <= 0:
            return
        now = utcnow()
        epoch = int(now.timestamp())
        start = datetime.fromtimestamp(epoch - epoch % self.window_seconds, UTC)
        if self._spend(api_key_id, start):
            return
        # One claim at a time per key: requests arriving meanwhile wait for it, then spend from what it got.
        async with self._claiming.setdefault(api_key_id, asyncio.Lock()):
            if self._spend(api_key_id, start):
                return
            budget = self._budgets.get(api_key_id)
            if budget is None or budget.window_start != start or not budget.used_up:
                granted = await self._claim(api_key_id, start)
                self._budgets[api_key_id] = _Budget(start, granted, used_up=granted < self.block)
                if self._spend(api_key_id, start):
                    return
        retry_after = max(1, math.ceil(start.timestamp() + self.window_seconds - now.timestamp()))
        raise TooManyRequests(
            f"this API key may send {self.limit} requests per {self.window_seconds} s here; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )

    def _spend(self, api_key_id: str, start: datetime) -> bool:
        budget = self._budgets.get(api_key_id)
        if budget is None or budget.window_start != start or budget.left <= 0:
            return False
        budget.left -= 1
        return True

    async def _claim(self, api_key_id: str, start: datetime) -> int:
        """Take up to a block of the window from the shared row; how much of it the limit still allowed."""
        self.claims += 1
        async with self.database.transaction(brief=True) as session:
            count = await repository.count_requests(session, api_key_id, self.bucket, start, self.block)
            if count == self.block:  # the key's first claim in a new window: forget its older windows
                await repository.drop_windows_before(session, api_key_id, self.bucket, start)
        before = count - self.block
        return max(0, min(self.block, self.limit - before))

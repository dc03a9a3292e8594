"""Cache hits counted in memory and written in batches: a decision served from the cache adds no write."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import date

from app.db import Database, utcnow
from app.providers import repository

logger = logging.getLogger("creditgate.providers")


class CacheHitCounter:
    """Adds up hits per (provider, day, stale) and writes them every `flush_seconds` and on close.

    A replica that dies loses at most that interval's counts; spend (the paid calls) is never batched."""

    def __init__(self, database: Database, flush_seconds: float = 1.0) -> None:
        self.database = database
        self.flush_seconds = flush_seconds
        self._pending: Counter[tuple[str, date, bool]] = Counter()
        self._flusher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def add(self, provider: str, *, stale: bool) -> None:
        self._pending[(provider, utcnow().date(), stale)] += 1
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_periodically())

    async def flush(self) -> None:
        async with self._lock:
            pending, self._pending = self._pending, Counter()
            if not pending:
                return
            try:
                async with self.database.transaction() as session:
                    for (provider, day, stale), count in sorted(pending.items()):
                        await repository.count_cache_hits(session, provider, day, stale=stale, count=count)
            except Exception:
                logger.exception("writing cache-hit counts failed; they are kept for the next try")
                self._pending.update(pending)

    async def aclose(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()

    async def _flush_periodically(self) -> None:
        while self._pending:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()

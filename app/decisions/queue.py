"""In-process queueing of decisions per customer, in front of the database's row lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class CustomerQueue:
    """One asyncio lock per customer, dropped when nobody waits.

    The row lock in the database is what guarantees the limit across replicas. This queue only keeps a
    burst of orders for one customer from each holding a pooled connection while it waits for that lock,
    which would starve the pool for everyone else.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, customer_id: str) -> AsyncIterator[None]:
        lock, waiting = self._locks.get(customer_id, (asyncio.Lock(), 0))
        self._locks[customer_id] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._locks[customer_id]
            if waiting == 1:
                del self._locks[customer_id]
            else:
                self._locks[customer_id] = (lock, waiting - 1)

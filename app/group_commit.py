"""Group commit: items queued at the same moment are applied together, in one shared transaction.

A decision's write is a handful of short statements, and on top of them every transaction pays its own
BEGIN, COMMIT, connection checkout and turn at the audit chain's head. Queued items are instead handed,
in arrival order, to one `apply` call in one transaction, which can serve them with a few set-based
statements. Each caller still gets its answer only after the commit that made its item durable.

Several shared transactions may be open at once (`writers`, PostgreSQL): two that hold items of the same
customer are ordered by that customer's row lock, as single decisions always were.

`apply` answers each item with its result, or with an exception for an item it refused before writing
anything for it (that caller gets the exception; the others land). When `apply` raises instead, the whole
transaction is rolled back and every item of it is applied again in a transaction of its own: the
failing one then fails alone, and the others land. This also covers a deadlock between two replicas'
shared transactions: PostgreSQL aborts one, and its items are applied again one at a time. When the
transaction itself cannot begin or commit, every item of it gets that error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.observability.metrics import record_shared_transaction, record_shared_transaction_rerun

Item = TypeVar("Item")
T = TypeVar("T")
# What `begin` opens (app.db's WriteSession, ReadSession or a bare read connection), which `apply` then receives.
Session = TypeVar("Session", bound=AsyncSession | AsyncConnection)

Begin = Callable[[], AbstractAsyncContextManager[Session]]
# Applies the items in order inside the shared transaction; one answer per item, in the same order.
Apply = Callable[[Session, Sequence[Item]], Awaitable[Sequence[T | Exception]]]

logger = logging.getLogger("creditgate.group_commit")


@dataclass(slots=True)
class _Queued(Generic[Item, T]):
    item: Item
    answer: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class _ApplyFailed(Exception):
    """`apply` raised inside a shared transaction of several items (its own exception is the cause)."""


class GroupCommit(Generic[Item, T, Session]):
    def __init__(
        self, begin: Begin[Session], apply: Apply[Session, Item, T], *, name: str, writers: int = 1, max_items: int = 64
    ) -> None:
        """`begin` opens the shared transaction (`Database.transaction`, or `Database.read` for reads);
        `name` labels the queue's metrics; `writers`: shared transactions open at once (each on a
        connection of its own)."""
        self.begin = begin
        self.name = name
        self.apply = apply
        self.writers = writers
        self.max_items = max_items
        self._queue: list[_Queued[Item, T]] = []
        self._writing: set[asyncio.Task[None]] = set()
        self.transactions = 0  # committed or not: how many transactions the items were applied in

    async def run(self, item: Item) -> T:
        """Queue the item and wait until the transaction that applied it has committed."""
        queued: _Queued[Item, T] = _Queued(item)
        self._queue.append(queued)
        if len(self._writing) < self.writers:
            self._writing.add(asyncio.create_task(self._write()))
        # A caller that goes away cancels only its own answer: an item not yet taken is then skipped, and a
        # transaction that already holds it goes on for the other items in it.
        return await queued.answer

    async def _write(self) -> None:
        batch: list[_Queued[Item, T]] = []
        try:
            while self._queue:
                batch = [queued for queued in self._queue[: self.max_items] if not queued.answer.done()]
                del self._queue[: self.max_items]
                if not batch:
                    continue
                try:
                    await self._together(batch)
                except _ApplyFailed:
                    logger.info("a shared transaction of %d items was rolled back; each runs alone", len(batch))
                    record_shared_transaction_rerun(self.name)
                    for queued in batch:
                        await self._alone(queued)
                except Exception as exc:
                    for queued in batch:
                        _settle(queued.answer, exc)
        except BaseException as exc:  # cancelled (shutdown): nobody is left waiting for an answer
            alone = all(writer is asyncio.current_task() for writer in self._writing)
            for queued in [*batch, *(self._queue if alone else [])]:
                if isinstance(exc, Exception):
                    _settle(queued.answer, exc)
                else:
                    queued.answer.cancel()
            if alone:
                self._queue.clear()
            raise
        finally:
            # Leaves the set in the same step that found the queue empty. A done callback would run only on
            # a later turn of the loop, and a caller woken before it could queue an item that no writer
            # takes: it would wait until some other caller's item started one.
            self._writing.discard(asyncio.current_task())

    async def _together(self, batch: list[_Queued[Item, T]]) -> None:
        """All items in one transaction; answered only once it has committed."""
        self.transactions += 1
        async with self.begin() as session:
            try:
                results = await self.apply(session, [queued.item for queued in batch])
            except Exception as exc:
                if len(batch) == 1:
                    raise
                raise _ApplyFailed from exc
            if len(results) != len(batch):
                raise RuntimeError(f"apply answered {len(results)} of {len(batch)} items")
        record_shared_transaction(self.name, len(batch))
        for queued, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                _settle(queued.answer, result)
            elif not queued.answer.done():
                queued.answer.set_result(result)

    async def _alone(self, queued: _Queued[Item, T]) -> None:
        try:
            await self._together([queued])
        except Exception as exc:
            _settle(queued.answer, exc)


def _settle(answer: asyncio.Future[T], exc: BaseException) -> None:
    if not answer.done():
        answer.set_exception(exc)

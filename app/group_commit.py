"""Group commit: write units of one kind run one after another in a shared transaction, committed together.

A decision's write is a handful of short statements, and on top of them every transaction pays its own
BEGIN, COMMIT, connection checkout and turn at the audit chain's head. Queued units instead share one
transaction: each caller still gets its answer only after the commit that made its unit durable, and the
units run in arrival order in that transaction, so each one reads what the ones before it wrote (a second
order of the same customer sees the first one's reservation) exactly as if they had committed one by one.

Several shared transactions may be open at once (`writers`, PostgreSQL): two that hold units of the same
customer are ordered by that customer's row lock, as single decisions always were.

When a unit raises inside a shared transaction, the whole transaction is rolled back and every unit of it
runs again in a transaction of its own: the failing one then fails alone, and the others land. This also
covers a deadlock between two replicas' shared transactions: PostgreSQL aborts one, and its units run
again one at a time. When the transaction itself cannot begin or commit, every unit of it gets that error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

Begin = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Unit = Callable[[AsyncSession], Awaitable[T]]
# Runs once per transaction, after its units, with their results in order (batched inserts, the audit chain).
Finish = Callable[[AsyncSession, Sequence[T]], Awaitable[None]]

logger = logging.getLogger("creditgate.group_commit")


@dataclass(slots=True)
class _Queued(Generic[T]):
    unit: Unit[T]
    answer: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class _UnitFailed(Exception):
    """A unit raised inside a shared transaction (its own exception is the cause)."""


class GroupCommit(Generic[T]):
    def __init__(self, begin: Begin, finish: Finish[T], *, writers: int = 1, max_units: int = 64) -> None:
        """`begin` opens the shared transaction (`Database.transaction`, or `Database.read` for reads);
        `writers`: shared transactions open at once (each on a connection of its own)."""
        self.begin = begin
        self.finish = finish
        self.writers = writers
        self.max_units = max_units
        self._queue: list[_Queued[T]] = []
        self._writing: set[asyncio.Task[None]] = set()
        self.transactions = 0  # committed or not: how many transactions the units were run in

    async def run(self, unit: Unit[T]) -> T:
        """Queue the unit and wait until the transaction that holds it has committed."""
        queued: _Queued[T] = _Queued(unit)
        self._queue.append(queued)
        if len(self._writing) < self.writers:
            writer = asyncio.create_task(self._write())
            self._writing.add(writer)
            writer.add_done_callback(self._writing.discard)
        # A caller that goes away cancels only its own answer: a unit not yet begun is then skipped, and a
        # transaction that already holds it goes on for the other units in it.
        return await queued.answer

    async def _write(self) -> None:
        batch: list[_Queued[T]] = []
        try:
            while self._queue:
                batch = [queued for queued in self._queue[: self.max_units] if not queued.answer.done()]
                del self._queue[: self.max_units]
                if not batch:
                    continue
                try:
                    await self._together(batch)
                except _UnitFailed:
                    logger.info("a shared transaction of %d units was rolled back; each runs alone", len(batch))
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

    async def _together(self, batch: list[_Queued[T]]) -> None:
        """All units in one transaction; answered only once it has committed."""
        results: list[T] = []
        self.transactions += 1
        async with self.begin() as session:
            for queued in batch:
                try:
                    results.append(await queued.unit(session))
                except Exception as exc:
                    if len(batch) == 1:
                        raise
                    raise _UnitFailed from exc
            await self.finish(session, results)
        for queued, result in zip(batch, results, strict=True):
            if not queued.answer.done():
                queued.answer.set_result(result)

    async def _alone(self, queued: _Queued[T]) -> None:
        try:
            await self._together([queued])
        except Exception as exc:
            _settle(queued.answer, exc)


def _settle(answer: asyncio.Future[T], exc: BaseException) -> None:
    if not answer.done():
        answer.set_exception(exc)

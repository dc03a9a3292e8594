"""Group commit: queued items are applied together in one transaction, and each answer waits for its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import Database, utcnow
from app.group_commit import GroupCommit
from app.observability.metrics import REGISTRY
from tests.conftest import count_rows

INSERT = text("INSERT INTO fx_rates (base, quote, rate, updated_at) VALUES (:base, 'EUR', '1', :at)")


class Refused(Exception):
    pass


@pytest.fixture
async def db(database_url: str, engine: AsyncEngine) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def apply_each(fail: str | None = None, refuse: str | None = None):  # type: ignore[no-untyped-def]
    """An apply that writes its items one by one: raises at `fail`, answers `refuse` with an exception."""

    async def apply(session: AsyncSession, bases: Sequence[str]) -> list[str | Exception]:
        answers: list[str | Exception] = []
        for base in bases:
            if base == fail:
                raise Refused(base)
            if base == refuse:
                answers.append(Refused(base))
                continue
            await session.execute(INSERT, {"base": base, "at": utcnow()})
            answers.append(base)
        return answers

    return apply


async def stored(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT base FROM fx_rates ORDER BY base"))).scalars().all())


async def test_concurrent_items_share_transactions_in_arrival_order(db: Database, engine: AsyncEngine) -> None:
    batches: list[list[str]] = []
    inner = apply_each()

    async def apply(session: AsyncSession, bases: Sequence[str]) -> list[str | Exception]:
        batches.append(list(bases))
        return await inner(session, bases)

    writes: GroupCommit[str, str] = GroupCommit(db.transaction, apply, name="test")
    bases = [f"A{index:02d}" for index in range(30)]
    answers = await asyncio.gather(*(writes.run(base) for base in bases))

    assert answers == bases
    assert await count_rows(engine, "fx_rates") == 30
    # Fewer transactions than items, each item in exactly one, in arrival order.
    assert writes.transactions == len(batches) < 30
    assert [base for batch in batches for base in batch] == bases


async def test_when_apply_raises_each_item_runs_alone_and_only_the_failing_one_fails(
    db: Database, engine: AsyncEngine
) -> None:
    writes: GroupCommit[str, str] = GroupCommit(db.transaction, apply_each(fail="BBB"), name="failing")
    reruns = REGISTRY.get_sample_value("creditgate_shared_transaction_reruns_total", {"queue": "failing"}) or 0
    outcomes = await asyncio.gather(
        writes.run("AAA"), writes.run("BBB"), writes.run("CCC"), writes.run("DDD"), return_exceptions=True
    )

    assert outcomes[0] == "AAA"
    assert isinstance(outcomes[1], Refused)
    assert outcomes[2:] == ["CCC", "DDD"]
    assert await stored(engine) == ["AAA", "CCC", "DDD"]
    assert REGISTRY.get_sample_value("creditgate_shared_transaction_reruns_total", {"queue": "failing"}) == reruns + 1


async def test_an_item_refused_by_apply_gets_its_exception_and_the_others_land_together(
    db: Database, engine: AsyncEngine
) -> None:
    writes: GroupCommit[str, str] = GroupCommit(db.transaction, apply_each(refuse="BBB"), name="test")
    outcomes = await asyncio.gather(
        writes.run("AAA"), writes.run("BBB"), writes.run("CCC"), writes.run("DDD"), return_exceptions=True
    )

    assert outcomes[0] == "AAA"
    assert isinstance(outcomes[1], Refused)
    assert outcomes[2:] == ["CCC", "DDD"]
    assert writes.transactions == 1  # nothing ran again alone
    assert await stored(engine) == ["AAA", "CCC", "DDD"]


async def test_a_transaction_that_cannot_begin_fails_every_item_of_it_and_stores_none(
    db: Database, engine: AsyncEngine
) -> None:
    @asynccontextmanager
    async def unavailable() -> AsyncIterator[AsyncSession]:
        raise PoolTimeout("no connection")
        yield  # pragma: no cover

    writes: GroupCommit[str, str] = GroupCommit(unavailable, apply_each(), name="test")
    outcomes = await asyncio.gather(*(writes.run(f"B{index}") for index in range(5)), return_exceptions=True)

    assert all(isinstance(outcome, PoolTimeout) for outcome in outcomes)
    assert await count_rows(engine, "fx_rates") == 0
    # The queue keeps working afterwards.
    writes.begin = db.transaction
    assert await writes.run("ZZZ") == "ZZZ"


async def test_a_caller_gone_before_its_turn_leaves_nothing_behind(db: Database, engine: AsyncEngine) -> None:
    release = asyncio.Event()
    inner = apply_each()

    async def apply(session: AsyncSession, bases: Sequence[str]) -> list[str | Exception]:
        if "SLO" in bases:
            await release.wait()
        return await inner(session, bases)

    writes: GroupCommit[str, str] = GroupCommit(db.transaction, apply, name="test")
    first = asyncio.create_task(writes.run("SLO"))
    await asyncio.sleep(0.05)  # the first transaction is open and waits in apply
    gone = asyncio.create_task(writes.run("GON"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()

    assert await first == "SLO"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await writes.run("NXT") == "NXT"
    assert await stored(engine) == ["NXT", "SLO"]


@pytest.mark.parametrize("chains", [1, 3])
async def test_an_item_queued_as_the_last_writer_finishes_still_gets_a_writer(
    db: Database, engine: AsyncEngine, chains: int
) -> None:
    """A caller its answer wakes runs before the finished writer's task is reaped: an item it queues right
    then must start a writer of its own, not wait for one that has already left (or for the next caller)."""
    commit = GroupCommit(db.transaction, apply_each(), name="test", writers=1)

    async def first_then_next(index: int) -> list[str]:
        first = await commit.run(f"F{index}")
        # No await in between: the next item is queued before the writer task's end has been processed.
        return [first, await commit.run(f"N{index}")]

    async with asyncio.timeout(10):
        answers = await asyncio.gather(*(first_then_next(index) for index in range(chains)))
    assert answers == [[f"F{index}", f"N{index}"] for index in range(chains)]
    assert await stored(engine) == sorted(base for pair in answers for base in pair)

"""Group commit: queued write units share one transaction, and each answer waits for its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db import Database, utcnow
from app.group_commit import GroupCommit
from tests.conftest import count_rows

INSERT = text("INSERT INTO fx_rates (base, quote, rate, updated_at) VALUES (:base, 'EUR', '1', :at)")


class Refused(Exception):
    pass


@pytest.fixture
async def db(database_url: str, engine: AsyncEngine) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


def unit(base: str, seen: list[str] | None = None, fail: bool = False):  # type: ignore[no-untyped-def]
    async def write(session: AsyncSession) -> str:
        if fail:
            raise Refused(base)
        await session.execute(INSERT, {"base": base, "at": utcnow()})
        if seen is not None:  # what this unit reads: every row written before it in its transaction
            rows = await session.execute(text("SELECT base FROM fx_rates ORDER BY base"))
            seen.extend(row.base for row in rows)
        return base

    return write


async def test_concurrent_units_share_transactions_and_each_sees_the_units_before_it(
    db: Database, engine: AsyncEngine
) -> None:
    finished: list[list[str]] = []

    async def finish(_session: AsyncSession, results: Sequence[str]) -> None:
        finished.append(list(results))

    writes: GroupCommit[str] = GroupCommit(db.transaction, finish)
    seen: list[str] = []
    bases = [f"A{index:02d}" for index in range(30)]
    answers = await asyncio.gather(*(writes.run(unit(base, seen if base == "A29" else None)) for base in bases))

    assert answers == bases
    assert await count_rows(engine, "fx_rates") == 30
    # Fewer transactions than units, each unit in exactly one, in arrival order.
    assert writes.transactions < 30
    assert [base for batch in finished for base in batch] == bases
    assert seen == bases  # the last unit read all 29 rows written before it, not yet committed then


async def test_a_failing_unit_fails_alone_and_the_others_land(db: Database, engine: AsyncEngine) -> None:
    async def finish(_session: AsyncSession, _results: Sequence[str]) -> None:
        pass

    writes: GroupCommit[str] = GroupCommit(db.transaction, finish)
    outcomes = await asyncio.gather(
        writes.run(unit("AAA")),
        writes.run(unit("BBB", fail=True)),
        writes.run(unit("CCC")),
        return_exceptions=True,
    )

    assert outcomes[0] == "AAA"
    assert outcomes[2] == "CCC"
    assert isinstance(outcomes[1], Refused)
    async with engine.connect() as connection:
        stored = (await connection.execute(text("SELECT base FROM fx_rates ORDER BY base"))).scalars().all()
    assert stored == ["AAA", "CCC"]


async def test_a_failed_finish_fails_every_unit_of_its_transaction_and_stores_none(
    db: Database, engine: AsyncEngine
) -> None:
    async def finish(_session: AsyncSession, _results: Sequence[str]) -> None:
        raise PoolTimeout("no connection")

    writes: GroupCommit[str] = GroupCommit(db.transaction, finish)
    outcomes = await asyncio.gather(*(writes.run(unit(f"B{index}")) for index in range(5)), return_exceptions=True)

    assert all(isinstance(outcome, PoolTimeout) for outcome in outcomes)
    assert await count_rows(engine, "fx_rates") == 0
    # The queue keeps working afterwards.
    writes.finish = lambda _session, _results: asyncio.sleep(0)
    assert await writes.run(unit("ZZZ")) == "ZZZ"


async def test_a_caller_gone_before_its_turn_leaves_nothing_behind(db: Database, engine: AsyncEngine) -> None:
    release = asyncio.Event()

    async def slow(session: AsyncSession) -> str:
        await release.wait()
        await session.execute(INSERT, {"base": "SLO", "at": utcnow()})
        return "SLO"

    async def finish(_session: AsyncSession, _results: Sequence[str]) -> None:
        pass

    writes: GroupCommit[str] = GroupCommit(db.transaction, finish)
    first = asyncio.create_task(writes.run(slow))
    await asyncio.sleep(0.05)  # the first transaction is open and waits in its unit
    gone = asyncio.create_task(writes.run(unit("GON")))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()

    assert await first == "SLO"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await writes.run(unit("NXT")) == "NXT"
    async with engine.connect() as connection:
        stored = (await connection.execute(text("SELECT base FROM fx_rates ORDER BY base"))).scalars().all()
    assert stored == ["NXT", "SLO"]

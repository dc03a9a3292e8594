"""Pooled connections on PostgreSQL: one the server closed is replaced before use, reads open no transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Database


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's own connections: the suite's run on PostgreSQL covers them")
    database = Database(database_url, pool_size=1)
    yield database
    await database.dispose()


async def _backend(database: Database) -> int:
    async with database.read() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it(
    database: Database, engine: AsyncEngine
) -> None:
    first = await _backend(database)
    async with engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    await asyncio.sleep(0.2)  # the event loop reads the server's goodbye from the idle socket
    second = await _backend(database)
    assert second != first


async def test_a_read_runs_without_a_transaction_and_a_write_within_one(database: Database) -> None:
    # now() is when the transaction began: in autocommit, with the statement; in a transaction, before the sleep.
    began_before_the_sleep = text("SELECT clock_timestamp() - now() >= interval '50 milliseconds'")
    async with database.read() as session:
        await session.execute(text("SELECT pg_sleep(0.05)"))
        assert not (await session.execute(began_before_the_sleep)).scalar_one()
    async with database.transaction() as session:
        await session.execute(text("SELECT pg_sleep(0.05)"))
        assert (await session.execute(began_before_the_sleep)).scalar_one()

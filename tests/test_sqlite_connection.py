"""Brief units of work on SQLite: statements on the event loop's thread, waits on the driver's thread.

These run on a SQLite file of their own whatever database the suite is configured for: they test the SQLite
connection itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.db import Database

SELECT = text("SELECT value FROM items ORDER BY value")
INSERT = text("INSERT INTO items (value) VALUES (:value)")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "brief.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE items (value INTEGER NOT NULL)")
    database = Database(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=5_000)
    yield database
    await database.dispose()


class ThreadCalls:
    """Records the name of each call aiosqlite hands to its connection's thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        original = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
            self.names.append(getattr(fn, "__name__", repr(fn)) + (f" {args[0].split()[0]}" if args else ""))
            return await original(connection, fn, *args, **kw)  # type: ignore[no-untyped-call]

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    def clear(self) -> None:
        self.names.clear()


async def _warm(database: Database) -> None:
    """Opens the pooled connection, so its connect-time calls are not counted."""
    async with database.read() as session:
        await session.execute(SELECT)


async def test_a_brief_write_hands_only_its_commit_to_the_driver_thread_when_the_lock_is_free(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _warm(database)
    calls = ThreadCalls(monkeypatch)
    async with database.transaction(brief=True) as session:
        for value in range(5):
            await session.execute(INSERT, {"value": value})
        assert (await session.execute(SELECT)).scalars().all() == [0, 1, 2, 3, 4]
        # BEGIN IMMEDIATE took the lock on the loop's thread, and the connection waits as long as before.
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5_000
    assert [name for name in calls.names if name != "execute PRAGMA"] == ["commit"]  # the check's own PRAGMA


async def test_a_unit_of_work_not_marked_brief_keeps_every_call_on_the_driver_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _warm(database)
    calls = ThreadCalls(monkeypatch)
    async with database.transaction() as session:
        for value in range(5):
            await session.execute(INSERT, {"value": value})
    # Each statement: a cursor, its execution and its close, at the least.
    assert len(calls.names) >= 2 + 5 * 3
    calls.clear()
    async with database.read() as session:
        await session.execute(SELECT)
    assert len(calls.names) >= 3


async def test_a_brief_read_runs_entirely_on_the_event_loop_thread(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as session:
        await session.execute(INSERT, {"value": 7})
    calls = ThreadCalls(monkeypatch)
    async with database.read(brief=True) as session:
        assert (await session.execute(SELECT)).scalars().all() == [7]
    # A read opens no transaction on SQLite, so its closing ROLLBACK has nothing to do and is not handed over.
    assert calls.names == []


async def test_a_brief_read_on_a_bare_connection_stays_on_the_loop_thread_and_takes_no_write_lock(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with database.transaction() as session:
        await session.execute(INSERT, {"value": 3})
    calls = ThreadCalls(monkeypatch)
    async with database.read_connection(brief=True) as connection:
        assert (await connection.execute(SELECT)).scalars().all() == [3]
        # Another connection takes the write lock and commits while the read is open: the read holds no lock.
        async with database.transaction() as session:
            await session.execute(INSERT, {"value": 4})
        assert (await connection.execute(SELECT)).scalars().all() == [3, 4]
    assert [name for name in calls.names if name in ("execute BEGIN", "commit")] == ["execute BEGIN", "commit"]
    assert not any(name.startswith("execute SELECT") for name in calls.names)


async def test_the_event_loop_keeps_running_while_a_brief_write_waits_for_the_lock(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock: the brief write's BEGIN IMMEDIATE waits on the driver's thread."""
    await _warm(database)
    calls = ThreadCalls(monkeypatch)
    holder = sqlite3.connect(tmp_path / "brief.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0
    stop = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())

    async def write() -> None:
        async with database.transaction(brief=True) as session:
            await session.execute(INSERT, {"value": 1})

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()
    ticked_while_waiting = ticks
    threading.Thread(target=holder.rollback).start()
    await writing
    stop.set()
    await ticker
    holder.close()
    # Thirty 10 ms ticks fit in the wait; a blocked loop would have managed none after the first.
    assert ticked_while_waiting >= 5
    assert calls.names[:1] == ["execute BEGIN"]  # the try on the loop's thread failed at once, and handed it over
    async with database.transaction(brief=True) as session:
        assert (await session.execute(SELECT)).scalars().all() == [1]
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5_000


async def test_a_failing_statement_in_a_brief_write_rolls_the_whole_unit_back(database: Database) -> None:
    async def write_then_fail() -> None:
        async with database.transaction(brief=True) as session:
            await session.execute(INSERT, {"value": 1})
            await session.execute(text("INSERT INTO missing (value) VALUES (1)"))

    with pytest.raises(OperationalError, match="no such table"):
        await write_then_fail()
    async with database.read(brief=True) as session:
        assert (await session.execute(SELECT)).scalars().all() == []
    async with database.transaction(brief=True) as session:
        await session.execute(INSERT, {"value": 2})
    async with database.read() as session:
        assert (await session.execute(SELECT)).scalars().all() == [2]

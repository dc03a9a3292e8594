"""The database goes away mid-load: requests fail fast with 503, readiness turns false, service resumes alone.

Away means reset (every connection dropped, new ones refused) or partitioned (nothing closed, nothing answered).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body
from tests.reliability.dbproxy import DatabaseProxy
from tests.reliability.server import PROXY_PORT, Server

CLIENTS = 6
OUTAGES = 2
# A request during an outage is answered (a 503 problem), never left hanging: the client gives up after this
# long, far past the server's own bounds (a 10 s pool wait, SQLite's 5 s busy timeout; in the partition test a
# 2 s statement and connect timeout), and a request it gave up on fails the test. The slowest answer is printed,
# not asserted.
CLIENT_TIMEOUT_SECONDS = 30


class Load:
    """Concurrent clients sending decisions and counting what came back, until stopped."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.statuses: Counter[int] = Counter()
        self.slowest = 0.0
        self.bad: list[str] = []
        self.running = True
        self.sequence = 0

    async def run(self) -> None:
        await asyncio.gather(*(self._worker(worker) for worker in range(CLIENTS)))

    async def _worker(self, worker: int) -> None:
        while self.running:
            self.sequence += 1
            body = order_body("100.00", "12345670", order_id=f"SO-DB{self.sequence}", customer_id=f"C-DB{worker}")
            started = time.monotonic()
            response = await self.client.post(
                "/v1/decisions", json=body, headers=auth(), timeout=CLIENT_TIMEOUT_SECONDS
            )
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 and (
                response.status_code != 503 or response.headers["content-type"] != "application/problem+json"
            ):
                self.bad.append(f"{response.status_code} {response.text[:300]}")
            await asyncio.sleep(0.01)


async def _ready(client: httpx.AsyncClient) -> int:
    return (await client.get("/health/ready", timeout=30)).status_code


async def _until(check: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


async def _outages(
    client: httpx.AsyncClient,
    break_database: Callable[[], Awaitable[None]],
    mend_database: Callable[[], Awaitable[None]],
) -> Load:
    """OUTAGES times: load running, database broken for a while, then back; check each phase."""
    load = Load(client)
    running = asyncio.create_task(load.run())
    try:
        for _ in range(OUTAGES):
            await asyncio.sleep(1.0)
            assert await _ready(client) == 200
            await break_database()
            before = load.statuses[503]
            assert await _until(lambda: _is(client, 503), 10), "readiness did not turn 503"
            assert await _until(partial(_more, load, 503, before), 15), "no decision failed with 503"
            await mend_database()
            assert await _until(lambda: _is(client, 200), 20), "readiness did not recover"
            created = load.statuses[201]
            assert await _until(partial(_more, load, 201, created), 20), "decisions did not resume"
    finally:
        load.running = False
        await running
    return load


async def _is(client: httpx.AsyncClient, status: int) -> bool:
    return await _ready(client) == status


async def _more(load: Load, status: int, before: int) -> bool:
    return load.statuses[status] > before


def _report(name: str, load: Load) -> None:
    print(f"{name}: {OUTAGES} outages, statuses {dict(load.statuses)}, slowest answer {load.slowest:.1f} s")
    assert load.bad == [], load.bad[:3]
    assert set(load.statuses) <= {201, 503}


class SqliteLock:
    """Another connection holds BEGIN EXCLUSIVE on the file: no write can proceed."""

    def __init__(self, database_url: str) -> None:
        self.path = make_url(database_url).database
        self.connection: sqlite3.Connection | None = None

    async def hold(self) -> None:
        self.connection = sqlite3.connect(str(self.path), timeout=10, isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")

    async def release(self) -> None:
        assert self.connection is not None
        self.connection.execute("ROLLBACK")
        self.connection.close()


@pytest.mark.slow
class TestDatabaseFaults:
    async def test_outages_fail_fast_with_503_and_service_resumes(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        if database_url.startswith("sqlite"):
            lock = SqliteLock(database_url)
            load = await self._run(
                Server(database_url, tmp_path / "server.log", decision_rate_limit="0"), lock.hold, lock.release
            )
            _report("sqlite file locked", load)
            return
        await self._through_proxy(database_url, tmp_path, "unreachable", DatabaseProxy.cut, DatabaseProxy.start)

    async def _through_proxy(
        self,
        database_url: str,
        tmp_path: Path,
        name: str,
        break_database: Callable[[DatabaseProxy], Awaitable[None]],
        mend_database: Callable[[DatabaseProxy], Awaitable[None]],
        **settings: str,
    ) -> None:
        """A PostgreSQL server reached through a proxy that the outages break and mend."""
        url = make_url(database_url)
        proxy = DatabaseProxy(PROXY_PORT, url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        proxied = url.set(host="127.0.0.1", port=PROXY_PORT).render_as_string(hide_password=False)
        try:
            server = Server(proxied, tmp_path / "server.log", decision_rate_limit="0", **settings)
            load = await self._run(server, lambda: break_database(proxy), lambda: mend_database(proxy))
        finally:
            await proxy.thaw()
            await proxy.cut()
        _report(f"postgresql {name} ({proxy.connections} proxied connections)", load)

    async def _run(
        self,
        server: Server,
        break_database: Callable[[], Awaitable[None]],
        mend_database: Callable[[], Awaitable[None]],
    ) -> Load:
        await asyncio.to_thread(server.start)
        try:
            async with httpx.AsyncClient(
                base_url=server.base_url, limits=httpx.Limits(max_connections=CLIENTS + 2)
            ) as client:
                return await _outages(client, break_database, mend_database)
        finally:
            await asyncio.to_thread(server.stop)

    async def test_a_partition_fails_requests_with_503_and_service_resumes(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        """The database stops answering but closes nothing: statement and connect timeouts end each request."""
        if database_url.startswith("sqlite"):
            # A local file cannot be partitioned; its nearest kin is a writer that never lets go.
            lock = SqliteLock(database_url)
            server = Server(
                database_url, tmp_path / "server.log", decision_rate_limit="0", sqlite_busy_timeout_ms="2000"
            )
            load = await self._run(server, lock.hold, lock.release)
            _report("sqlite writer that never lets go", load)
            return
        bounds = {"database_statement_timeout_seconds": "2", "database_connect_timeout_seconds": "2"}
        await self._through_proxy(
            database_url, tmp_path, "partitioned", DatabaseProxy.freeze, DatabaseProxy.thaw, **bounds
        )

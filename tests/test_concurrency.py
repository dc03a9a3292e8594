"""Concurrent decisions for one customer never exceed its available credit: in process and across processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import alembic_config, create_engine
from app.main import create_app
from app.settings import Settings
from tests.concurrency import rush
from tests.conftest import KEYS, auth, order_body
from tests.erp import manual_limit, put_customer

ROOT = Path(__file__).resolve().parent.parent
PORTS = iter(range(18300, 18400))


class TestInProcess:
    async def test_two_hundred_concurrent_decisions_never_exceed_available_credit(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await rush([client], engine, orders=200)


class TestGroupInProcess:
    async def test_concurrent_orders_of_two_members_never_exceed_the_group_limit(
        self, client: httpx.AsyncClient
    ) -> None:
        await put_customer(client, "G-ROOT", limit_currency="EUR", group_limit="2000.00")
        for member in ("G-A", "G-B"):
            await put_customer(client, member, parent_id="G-ROOT", **manual_limit("5000.00"))

        async def one(index: int) -> httpx.Response:
            member = "G-A" if index % 2 else "G-B"
            body = order_body("100.00", "12345670", order_id=f"SO-G{index}", customer_id=member)
            return await client.post("/v1/decisions", json=body, headers=auth())

        responses = await asyncio.gather(*(one(index) for index in range(100)))
        assert {response.status_code for response in responses} == {201}
        approved = sum(Decimal(response.json()["approved_credit_amount"]) for response in responses)
        assert approved == Decimal("2000.00")


class TestNoProviderCallUnderTheLock:
    async def test_a_slow_report_does_not_hold_up_the_customers_other_orders(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        slow = settings.model_copy(update={"simulated_latency_ms": 1500})
        app = create_app(slow)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
                # 1000.00 buys a report (slow); 100.00 is under the small-order threshold and buys none.
                big = order_body("1000.00", "12345670", order_id="SO-BIG")
                small = order_body("100.00", "12345670", order_id="SO-SMALL")
                waiting = asyncio.create_task(http.post("/v1/decisions", json=big, headers=auth()))
                await asyncio.sleep(0.2)  # the first is now waiting for its report
                quick = asyncio.create_task(http.post("/v1/decisions", json=small, headers=auth()))
                done, _ = await asyncio.wait({waiting, quick}, return_when=asyncio.FIRST_COMPLETED)
                assert done == {quick}
                assert (await quick).status_code == 201
                assert (await waiting).status_code == 201


@contextmanager
def _servers(database_url: str, count: int) -> Iterator[list[str]]:
    """Real uvicorn processes on our ports, sharing one database."""
    env = {
        **os.environ,
        "CREDITGATE_DATABASE_URL": database_url,
        "CREDITGATE_API_KEYS": json.dumps(KEYS),
        "PYTHONPATH": str(ROOT),
        # Their output is the test's: warnings and errors only, not a line for every one of the rush's requests.
        "CREDITGATE_LOG_LEVEL": "WARNING",
    }
    processes, urls = [], []
    try:
        for _ in range(count):
            port = next(PORTS)
            command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_factory", "--host", "127.0.0.1",
                       "--port", str(port), "--log-level", "warning"]  # fmt: skip
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env))  # noqa: S603 - our own server
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


async def _until_ready(urls: list[str]) -> None:
    async with httpx.AsyncClient() as http:
        for url in urls:
            for _ in range(300):
                try:
                    if (await http.get(f"{url}/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"{url} never became ready")


@asynccontextmanager
async def _clients(urls: list[str]) -> AsyncIterator[list[httpx.AsyncClient]]:
    limits = httpx.Limits(max_connections=200)
    clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for url in urls]
    try:
        yield clients
    finally:
        for http in clients:
            await http.aclose()


@pytest.mark.slow
class TestAcrossProcesses:
    async def test_two_hundred_concurrent_decisions_across_real_servers(
        self, database_url: str, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        """Two processes on PostgreSQL when the run uses it; one process on a fresh SQLite file otherwise."""
        if database_url.startswith("postgresql"):
            url, count, check_engine = database_url, 2, engine
        else:
            url, count = f"sqlite+aiosqlite:///{tmp_path / 'rush.db'}", 1
            config = alembic_config(url)
            config.attributes["configure_logger"] = False
            await asyncio.to_thread(_upgrade, config)
            check_engine = create_engine(url)
        try:
            with _servers(url, count) as urls:
                await _until_ready(urls)
                async with _clients(urls) as clients:
                    await rush(clients, check_engine, orders=200)
        finally:
            if check_engine is not engine:
                await check_engine.dispose()


def _upgrade(config: object) -> None:
    from alembic import command

    command.upgrade(config, "head")  # type: ignore[arg-type]

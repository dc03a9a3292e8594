"""Exports and what-if replays are heavy reads: a bounded few at a time, refused cleanly, never a broken stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Database
from app.decisions.models import Decision
from app.main import create_app
from app.services import services_of
from app.settings import Settings
from bench.export_bench import decision_rows
from tests.conftest import ALL_KEY, KEYS, auth, order_body

Message = dict[str, Any]


async def store_decisions(engine: AsyncEngine, count: int) -> None:
    """Decisions written straight into the table (their reason rows by trigger): enough rows for an export of
    several chunks."""
    async with engine.begin() as connection:
        for decisions in decision_rows(count):
            await connection.execute(insert(Decision), decisions)


class Exchange:
    """One request driven through the ASGI interface, so a test sees each message as the server sends it.

    `hold` makes the client stop reading after the first body chunk (the server's send waits) until released;
    `disconnect` makes the client go away once the first body chunk has arrived."""

    def __init__(self, app: FastAPI, path: str, params: dict[str, str] | None = None, *, key: str = ALL_KEY) -> None:
        self.app = app
        self.scope: Message = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(params or {}).encode(),
            "headers": [(b"authorization", f"Bearer {key}".encode()), (b"host", b"creditgate.test")],
            "client": ("127.0.0.1", 1),
            "server": ("creditgate.test", 80),
            "root_path": "",
        }
        self.messages: list[Message] = []
        self.first_body = asyncio.Event()
        self.released = asyncio.Event()
        self.gone = asyncio.Event()
        self.hold = False

    async def run(self) -> list[Message]:
        await self.app(self.scope, self._receive, self._send)
        return self.messages

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {name.decode(): value.decode() for name, value in self.messages[0]["headers"]}

    async def _receive(self) -> Message:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and not self.first_body.is_set():
            self.first_body.set()
            if self.hold:
                await self.released.wait()


@pytest.fixture
async def bounded_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """One heavy read at a time, and a further one refused after a tenth of a second's wait."""
    app = create_app(settings.model_copy(update={"heavy_read_concurrency": 1, "heavy_read_queue_seconds": 0.1}))
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditgate.test")


def _heavy_reads(app: FastAPI) -> int:
    database: Database = services_of(app).database
    return database.heavy_reads.in_flight


async def _until(check: Any, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if check():
            return True
        await asyncio.sleep(0.02)
    return bool(check())


BAD_EXPORT_FILTERS = [
    # An offset that takes the time outside the calendar in UTC: a 200 and then a broken stream before.
    {"decided_from": "0001-01-01T00:00:00+05:00"},
    {"decided_to": "9999-12-31T23:59:59-05:00"},
    {"decided_from": "2026-11-23T10:00:00"},
    {"decided_from": "yesterday"},
    {"amount_min": "5"},
    {"currency": "EUR", "amount_max": "1e3"},
    {"currency": "JPY", "amount_max": "9223372036854775808"},
    {"currency": "XXX"},
    {"outcome": "maybe"},
    {"reviewed": "perhaps"},
    {"reason_code": "lower"},
    {"customer_id": "C\x00"},
    {"customer_id": "C" * 65},
    {"limit": "5"},
]


class TestExportValidatesBeforeStreaming:
    @pytest.mark.parametrize("params", BAD_EXPORT_FILTERS, ids=lambda params: urlencode(params))
    async def test_a_bad_filter_is_a_4xx_problem_before_the_first_byte(
        self, bounded_app: FastAPI, params: dict[str, str]
    ) -> None:
        exchange = Exchange(bounded_app, "/v1/decisions/export", params)
        await exchange.run()
        assert 400 <= exchange.status < 500, exchange.messages[:2]
        assert exchange.headers["content-type"] == "application/problem+json"
        problem = json.loads(b"".join(m.get("body", b"") for m in exchange.messages[1:]))
        assert problem["errors"][0]["field"].startswith("query.")
        assert _heavy_reads(bounded_app) == 0

    async def test_the_paged_history_refuses_the_same_times_with_422(self, client: httpx.AsyncClient) -> None:
        for params in BAD_EXPORT_FILTERS[:2]:
            response = await client.get("/v1/decisions", params=params, headers=auth())
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == f"query.{next(iter(params))}"


class TestHeavyReadsAreBounded:
    async def test_an_export_beyond_the_bound_is_refused_with_503_and_retry_after(
        self, bounded_app: FastAPI, engine: AsyncEngine
    ) -> None:
        await store_decisions(engine, 1200)
        running = Exchange(bounded_app, "/v1/decisions/export")
        running.hold = True
        task = asyncio.create_task(running.run())
        await asyncio.wait_for(running.first_body.wait(), 10)
        assert running.status == 200

        refused = Exchange(bounded_app, "/v1/decisions/export")
        await refused.run()
        assert refused.status == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) > 0
        assert json.loads(refused.messages[1]["body"])["code"] == "heavy_reads_busy"

        async with _client(bounded_app) as client:
            # A what-if replay waits in the same queue; the decision path does not.
            simulated = await client.post("/v1/policies/default-2026.11/simulate", json={}, headers=auth())
            assert simulated.status_code == 503
            assert simulated.headers["retry-after"]
            decided = await client.post("/v1/decisions", json=order_body(order_id="SO-NEW"), headers=auth())
            assert decided.status_code == 201

        running.released.set()
        await asyncio.wait_for(task, 30)
        body = b"".join(m.get("body", b"") for m in running.messages[1:])
        assert body.count(b"\r\n") == 1200 + 1  # header and every row: the held export was not cut off
        assert _heavy_reads(bounded_app) == 0
        again = Exchange(bounded_app, "/v1/decisions/export")
        await again.run()
        assert again.status == 200

    async def test_a_client_that_goes_away_mid_export_gives_its_turn_back(
        self, bounded_app: FastAPI, engine: AsyncEngine
    ) -> None:
        await store_decisions(engine, 1200)
        leaving = Exchange(bounded_app, "/v1/decisions/export")
        leaving.hold = True
        task = asyncio.create_task(leaving.run())
        await asyncio.wait_for(leaving.first_body.wait(), 10)
        assert _heavy_reads(bounded_app) == 1
        leaving.gone.set()
        await asyncio.wait_for(task, 10)
        assert await _until(lambda: _heavy_reads(bounded_app) == 0), "the export kept its turn after the client left"
        after = Exchange(bounded_app, "/v1/decisions/export")
        await after.run()
        assert after.status == 200

    async def test_a_replay_holds_a_turn_while_it_runs_and_gives_it_back(
        self, bounded_app: FastAPI, engine: AsyncEngine
    ) -> None:
        async with _client(bounded_app) as client:
            for index in range(3):
                body = order_body("100.00", order_id=f"SO-{index}", customer_id=f"C-{index}")
                assert (await client.post("/v1/decisions", json=body, headers=auth())).status_code == 201
            replayed = await client.post("/v1/policies/default-2026.11/simulate", json={}, headers=auth())
            assert replayed.status_code == 200
            assert replayed.json()["replayed"] == 3
        assert _heavy_reads(bounded_app) == 0


class TestHeavyReadsHaveTheirOwnPool:
    async def test_exports_read_on_a_pool_apart_from_the_decision_path(self, database_url: str) -> None:
        settings = Settings(database_url=database_url, api_keys=SecretStr(json.dumps(KEYS)), heavy_read_concurrency=3)
        database = Database.from_settings(settings)
        try:
            assert database.heavy_reads.engine is not database.engine
            assert database.heavy_reads.engine.pool.size() == 3  # type: ignore[attr-defined]
        finally:
            await database.dispose()

"""A decision stuck behind a lock nobody releases answers 503 within the database bounds, never a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, order_body

# Far past the bounds below (a 1 s statement timeout, a 1 s busy timeout); a request still waiting then fails.
CLIENT_TIMEOUT_SECONDS = 30


async def _hold_the_customer(engine: AsyncEngine, held: asyncio.Event, release: asyncio.Event) -> None:
    """The customer's row locked (PostgreSQL) or the whole file locked for writing (SQLite) until released."""
    async with engine.begin() as connection:  # on SQLite this begins with BEGIN IMMEDIATE
        if engine.dialect.name == "postgresql":
            await connection.execute(text("SELECT id FROM customers WHERE id = 'C-LOCKED' FOR UPDATE"))
        else:
            await connection.execute(text("UPDATE customers SET name = name WHERE id = 'C-LOCKED'"))
        held.set()
        await release.wait()


@asynccontextmanager
async def _bounded_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    bounded = settings.model_copy(update={"database_statement_timeout_seconds": 1.0, "sqlite_busy_timeout_ms": 1000})
    app = create_app(bounded)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client,
    ):
        yield client


class TestStatementTimeouts:
    async def test_a_decision_behind_a_lock_that_is_never_released_answers_503(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        async with _bounded_client(settings) as client:
            first = order_body("100.00", order_id="SO-L1", customer_id="C-LOCKED")
            assert (await client.post("/v1/decisions", json=first, headers=auth())).status_code == 201
            held, release = asyncio.Event(), asyncio.Event()
            holder = asyncio.create_task(_hold_the_customer(engine, held, release))
            try:
                await asyncio.wait_for(held.wait(), 10)
                stuck = order_body("100.00", order_id="SO-L2", customer_id="C-LOCKED")
                response = await asyncio.wait_for(
                    client.post("/v1/decisions", json=stuck, headers=auth()), CLIENT_TIMEOUT_SECONDS
                )
            finally:
                release.set()
                await holder
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"]
            retried = await client.post("/v1/decisions", json=stuck, headers=auth())
            assert retried.status_code == 201

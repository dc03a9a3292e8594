"""The paid path is rate limited per API key, in the database, so one client cannot run up report costs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Database
from app.errors import TooManyRequests
from app.main import create_app
from app.ratelimit.service import RateLimiter
from app.settings import Settings
from tests.conftest import ALL_KEY, auth, count_rows, key_for, order_body

LIMIT = 3
# An hour-long window: a test never straddles two windows in practice, so counts never reset mid-test.
WINDOW = 3600


@asynccontextmanager
async def replica(settings: Settings, limit: int = LIMIT) -> AsyncIterator[httpx.AsyncClient]:
    """One app instance on the shared database, as a replica behind a load balancer would be."""
    limited = settings.model_copy(update={"decision_rate_limit": limit, "decision_rate_window_seconds": WINDOW})
    app = create_app(limited)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
            yield http


async def decide(client: httpx.AsyncClient, index: int, key: str = ALL_KEY) -> httpx.Response:
    body = order_body("100.00", order_id=f"SO-RL{index}", customer_id=f"C-RL{index}")
    return await client.post("/v1/decisions", json=body, headers=auth(key))


class TestDecisionRateLimit:
    async def test_a_key_over_its_limit_gets_429_with_retry_after(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        async with replica(settings) as client:
            statuses = [(await decide(client, index)).status_code for index in range(LIMIT)]
            refused = await decide(client, LIMIT)
        assert statuses == [201] * LIMIT
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
        assert await count_rows(engine, "decisions") == LIMIT

    async def test_the_limit_holds_across_replicas(self, settings: Settings, engine: AsyncEngine) -> None:
        async with replica(settings) as first, replica(settings) as second:
            statuses = [(await decide((first, second)[index % 2], index)).status_code for index in range(LIMIT + 3)]
        assert statuses == [201] * LIMIT + [429] * 3
        assert await count_rows(engine, "decisions") == LIMIT

    async def test_one_key_over_its_limit_does_not_stop_another(self, settings: Settings) -> None:
        async with replica(settings) as client:
            for index in range(LIMIT + 1):
                await decide(client, index)
            other = await decide(client, 100, key_for("decide"))
        assert other.status_code == 201

    async def test_refused_requests_still_count_and_reads_are_not_limited(self, settings: Settings) -> None:
        async with replica(settings, limit=1) as client:
            await decide(client, 0)
            refused = [(await decide(client, index)).status_code for index in range(1, 4)]
            history = await client.get("/v1/decisions", headers=auth())
        assert refused == [429, 429, 429]
        assert history.status_code == 200

    async def test_a_limit_of_zero_turns_it_off(self, settings: Settings) -> None:
        async with replica(settings, limit=0) as client:
            statuses = [(await decide(client, index)).status_code for index in range(LIMIT + 2)]
        assert statuses == [201] * (LIMIT + 2)

    async def test_a_key_without_the_decide_scope_is_refused_before_it_is_counted(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        async with replica(settings, limit=1) as client:
            forbidden = await decide(client, 0, key_for("read"))
            allowed = await decide(client, 1)
        assert (forbidden.status_code, allowed.status_code) == (403, 201)
        assert await count_rows(engine, "rate_limit_windows") == 1


class TestClaimedBlocks:
    """Each process claims a block of the window from the shared row, and spends it without a round trip."""

    async def test_concurrent_requests_on_two_replicas_never_pass_the_limit(
        self, database_url: str, engine: AsyncEngine
    ) -> None:
        limit = 200  # blocks of 4
        first, second = Database(database_url), Database(database_url)
        try:
            limiters = [RateLimiter(db, "decisions", limit, WINDOW) for db in (first, second)]

            async def one(index: int) -> bool:
                try:
                    await limiters[index % 2].hit("key-a")
                except TooManyRequests:
                    return False
                return True

            admitted = await asyncio.gather(*(one(index) for index in range(limit + 60)))
        finally:
            await first.dispose()
            await second.dispose()
        assert sum(admitted) <= limit
        # Only what a replica claimed but had not spent when the other had used up the rest can go unspent.
        assert sum(admitted) >= limit - limiters[0].block
        assert sum(limiter.claims for limiter in limiters) <= limit // limiters[0].block + 2

    async def test_a_used_up_window_is_refused_without_asking_again(self, database_url: str) -> None:
        database = Database(database_url)
        try:
            limiter = RateLimiter(database, "decisions", 100, WINDOW)
            for _ in range(100):
                await limiter.hit("key-b")
            claims = limiter.claims
            for _ in range(5):
                with pytest.raises(TooManyRequests):
                    await limiter.hit("key-b")
        finally:
            await database.dispose()
        assert limiter.claims == claims + 1

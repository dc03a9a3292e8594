"""Statements, transactions, and driver thread hops (SQLite) or round trips (PostgreSQL) per decision, in process.

The served app is built as `creditgate serve` builds it, rate limit on at its default, and decisions on cached
reports are posted one at a time through ASGI; SQLAlchemy's cursor events count the statements, and on SQLite
each call aiosqlite hands to its connection's thread is counted as one hop (each costs a wake-up of that thread
and one of the event loop); on PostgreSQL each write asyncpg makes to its socket is one round trip (it sends a
statement's messages together and waits for the answer). Warm-up decisions first, so startup reads are not
counted. The CPU time of the event loop's thread over the counted decisions is given per decision too.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any

import aiosqlite.core
import httpx
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.main import create_app
from app.services import services_of
from app.settings import Settings

WARMUP = 20
COUNTED = 50
KEY = "bench_statements_key_0000000000"


def _body(customer: int, order_id: str) -> dict[str, Any]:
    """A body as bench/lua/decisions.lua sends it, for an amount that needs the customer's (cached) report."""
    countries = ("NL", "NL", "NL", "DE", "DE", "BE", "FR", "AT")
    return {
        "order": {"id": order_id, "amount": f"{random.randint(250, 20000)}.00", "currency": "EUR"},
        "customer": {
            "id": f"C-{customer:06d}",
            "name": f"Customer {customer} B.V.",
            "country": countries[customer % len(countries)],
            "registration_number": f"1{customer:06d}{customer % 10}",
        },
    }


async def count_per_decision(database_url: str, customers: int, run_tag: str) -> dict[str, float]:
    settings = Settings(database_url=database_url, api_keys=SecretStr(json.dumps({KEY: ["decide", "read"]})))
    counts: Counter[str] = Counter()

    def statement(*_args: Any) -> None:
        counts["statements"] += 1

    def begin(*_args: Any) -> None:
        counts["transactions"] += 1

    original = aiosqlite.core.Connection._execute

    async def hop(self: aiosqlite.core.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counts["thread hops"] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def checkout(dbapi_connection: Any, *_args: Any) -> None:
        transport = getattr(dbapi_connection.driver_connection, "_transport", None)
        if transport is None or getattr(transport, "creditgate_counted", False):
            return
        write = transport.write

        def counted_write(data: Any) -> None:
            if counting:
                counts["round trips"] += 1
            write(data)

        transport.write = counted_write
        transport.creditgate_counted = True

    counting = False
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        database = services_of(app).database
        if not database.is_sqlite:
            event.listen(database.engine.sync_engine, "checkout", checkout)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.bench") as http:
            headers = {"Authorization": f"Bearer {KEY}"}

            async def decide(number: int) -> None:
                body = _body(random.randrange(customers), f"SO-{run_tag}-count-{number}")
                response = await http.post("/v1/decisions", json=body, headers=headers)
                if response.status_code != 201:
                    raise RuntimeError(f"POST /v1/decisions answered {response.status_code}: {response.text}")

            for number in range(WARMUP):
                await decide(number)
            event.listen(Engine, "before_cursor_execute", statement)
            event.listen(Engine, "begin", begin)
            aiosqlite.core.Connection._execute = hop  # type: ignore[method-assign]
            counting = True
            started = time.thread_time()
            try:
                for number in range(WARMUP, WARMUP + COUNTED):
                    await decide(number)
                counts["main thread cpu ms"] = round((time.thread_time() - started) * 1000)
            finally:
                counting = False
                aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]
                event.remove(Engine, "before_cursor_execute", statement)
                event.remove(Engine, "begin", begin)
    names = ("statements", "transactions", "thread hops", "round trips", "main thread cpu ms")
    return {name: round(counts[name] / COUNTED, 2) for name in names}

"""Provider benchmark: a cold burst of decisions over a few companies, with the provider at 200 ms.

Prints paid provider calls per distinct company (1.00 means every report was bought exactly once) and the
decision latency p50/p99, for the cold burst and then for a warm one served from the cache.

    PYTHONPATH=. python bench/provider_bench.py [--decisions 300] [--companies 30] [--latency-ms 200]
                                               [--concurrency 50]

The app runs in process (httpx ASGITransport, no sockets) on a fresh SQLite file, or on
CREDITGATE_DATABASE_URL when set (that database is reset: use a scratch one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from app.db import alembic_config
from app.main import create_app
from app.settings import Settings

KEY = "bench-key-all-scopes-0000"


def migrate(database_url: str) -> None:
    from alembic import command

    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    if database_url.startswith("postgresql"):
        command.downgrade(config, "base")
    command.upgrade(config, "head")


def body(n: int, companies: int, burst: str) -> dict[str, Any]:
    company = n % companies
    return {
        "order": {"id": f"{burst}-{n}", "amount": "1250.00", "currency": "EUR"},
        "customer": {"id": f"C-{company}", "country": "NL", "registration_number": f"5{company:06d}2"},
    }


async def burst(
    client: httpx.AsyncClient, name: str, decisions: int, companies: int, concurrency: int
) -> tuple[list[float], list[str]]:
    """Every decision of the burst at once, `concurrency` of them in flight (checkouts waiting on us).

    Returns each decision's latency in ms and its id."""
    headers = {"Authorization": f"Bearer {KEY}"}
    slots = asyncio.Semaphore(concurrency)

    async def one(n: int) -> tuple[float, str]:
        async with slots:
            started = time.perf_counter()
            response = await client.post("/v1/decisions", json=body(n, companies, name), headers=headers)
            response.raise_for_status()
            return (time.perf_counter() - started) * 1000, response.json()["id"]

    results = await asyncio.gather(*(one(n) for n in range(decisions)))
    return [latency for latency, _ in results], [decision_id for _, decision_id in results]


async def report_parts(client: httpx.AsyncClient, decision_ids: list[str]) -> tuple[list[float], Counter[str]]:
    """The time each decision spent getting its report (cache read, purchase or wait), and the report sources."""
    headers = {"Authorization": f"Bearer {KEY}"}
    times, sources = [], Counter[str]()
    for decision_id in decision_ids:
        detail = (await client.get(f"/v1/decisions/{decision_id}", headers=headers)).json()
        times.append(float(detail["timings"]["provider_ms"]))
        sources[detail["report"]["source"]] += 1
    return times, sources


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(arguments: argparse.Namespace, database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        api_keys=SecretStr(json.dumps({KEY: ["decide", "read"]})),
        provider="simulated",
        simulated_latency_ms=arguments.latency_ms,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            shape = (arguments.decisions, arguments.companies, arguments.concurrency)
            cold, cold_ids = await burst(client, "cold", *shape)
            warm, _ = await burst(client, "warm", *shape)
            cold_provider, cold_sources = await report_parts(client, cold_ids)
            usage = (await client.get("/v1/providers/usage", headers={"Authorization": f"Bearer {KEY}"})).json()
    bought = sum(item["reports_bought"] for item in usage["items"])
    failed = sum(item["errors"] for item in usage["items"])
    print(f"database            {database_url.split(':', 1)[0]}")
    print(
        f"provider latency    {arguments.latency_ms} ms (simulated); decision budget {settings.decision_budget_ms} ms"
    )
    print(
        f"burst               {arguments.decisions} decisions over {arguments.companies} companies, "
        f"{arguments.concurrency} in flight"
    )
    print(f"paid calls          {bought} ({bought / arguments.companies:.2f} per distinct company), {failed} failed")
    print(f"cold report sources {', '.join(f'{name} {count}' for name, count in cold_sources.most_common())}")
    for name, latencies in (("cold", cold), ("warm", warm), ("cold report part", cold_provider)):
        print(
            f"{name + ' latency ms':<28} p50 {statistics.median(latencies):7.1f}   "
            f"p99 {percentile(latencies, 0.99):7.1f}   max {max(latencies):7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--companies", type=int, default=30)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database_url = os.environ.get("CREDITGATE_DATABASE_URL") or f"sqlite+aiosqlite:///{Path(scratch) / 'b.db'}"
        migrate(database_url)
        asyncio.run(run(arguments, database_url))


if __name__ == "__main__":
    main()

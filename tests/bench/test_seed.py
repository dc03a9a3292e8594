"""The benchmark's bulk-seeded decisions are rows the service reads like its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import BenchDatabase
from bench.seed import SEEDERS, customer_identity, seed_decisions
from bench.wrk import parse_output
from tests.conftest import auth, count_rows


def bench_database(database_url: str) -> BenchDatabase:
    if database_url.startswith("sqlite"):
        return BenchDatabase("sqlite", database_url, Path(make_url(database_url).database or ""))
    return BenchDatabase("postgresql", database_url)


async def seed(database_url: str, target: int, customers: int, **options: int) -> int:
    # The seeder runs its own event loop (as the bench's command line does), so it gets a thread of its own.
    newest = datetime.now(UTC)
    return await asyncio.to_thread(seed_decisions, bench_database(database_url), target, customers, newest, **options)


class TestSeededDecisions:
    async def test_seeds_up_to_the_target_and_no_further(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        assert await seed(database_url, 70, customers=7) == 70
        assert await seed(database_url, 100, customers=7) == 30
        assert await seed(database_url, 100, customers=7) == 0
        assert await count_rows(engine, "decisions") == 100

    async def test_history_pages_through_seeded_decisions_newest_first(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        await seed(database_url, 120, customers=2)
        seen: list[dict[str, str]] = []
        cursor = None
        for _ in range(5):
            params = {"customer_id": "C-000001", "limit": "25", **({"cursor": cursor} if cursor else {})}
            response = await client.get("/v1/decisions", params=params, headers=auth())
            assert response.status_code == 200, response.text
            page = response.json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 60
        assert {item["customer_id"] for item in seen} == {"C-000001"}
        decided = [item["decided_at"] for item in seen]
        assert decided == sorted(decided, reverse=True)

    async def test_one_seeded_decision_reads_back_whole(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        await seed(database_url, 1, customers=1)
        listed = (await client.get("/v1/decisions", headers=auth())).json()["items"][0]
        response = await client.get(f"/v1/decisions/{listed['id']}", headers=auth())
        assert response.status_code == 200, response.text
        decision = response.json()
        assert decision["report"]["risk_class"] == "B"
        assert decision["request"]["order"]["currency"] == "EUR"

    async def test_bulk_seed_rebuilds_the_indexes_it_dropped(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        async with engine.connect() as connection:
            before = await connection.run_sync(lambda sync: inspect(sync).get_indexes("decisions"))
        await seed(database_url, 50, customers=5, rebuild_indexes_above=0)
        async with engine.connect() as connection:
            after = await connection.run_sync(lambda sync: inspect(sync).get_indexes("decisions"))
        assert sorted((index["name"], index["column_names"]) for index in after) == sorted(
            (index["name"], index["column_names"]) for index in before
        )
        assert await count_rows(engine, "decisions") == 50


class TestSeededCustomers:
    async def test_the_load_decides_on_cached_reports_and_real_exposure(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        database = bench_database(database_url)
        notes = [await asyncio.to_thread(seeder, database, 50) for seeder in SEEDERS]
        assert len(notes) == 3
        assert await count_rows(engine, "customers") == 50
        assert await count_rows(engine, "invoices") == 100
        assert await count_rows(engine, "credit_reports") == 50

        def order(number: int) -> dict[str, object]:
            customer_id, country, registration_number = customer_identity(number)
            customer = {"id": customer_id, "name": f"Customer {number} B.V.", "country": country}
            return {
                "order": {"id": f"SO-SEED-{number}", "amount": "1500.00", "currency": "EUR"},
                "customer": {**customer, "registration_number": registration_number},
            }

        decisions = []
        for number in (1, 7, 49):  # regular; overdue beyond tolerance; blocked
            response = await client.post("/v1/decisions", json=order(number), headers=auth())
            assert response.status_code == 201, response.text
            decisions.append(response.json())
        assert {decision["report"]["source"] for decision in decisions} == {"cache"}
        assert all(decision["exposure"] != "0.00" for decision in decisions)
        assert await count_rows(engine, "provider_calls") == 0  # nothing bought: the cache served every one
        codes = [{reason["code"] for reason in decision["reasons"]} for decision in decisions]
        assert "OVERDUE_INVOICES" in codes[1]
        assert "CUSTOMER_BLOCKED" in codes[2]


class TestWrkFigures:
    def test_reads_the_done_hook_line(self) -> None:
        output = (
            "Running 10s test @ http://127.0.0.1:18100\n"
            'BENCH_RESULT {"requests":1500,"duration_us":10000000,"bytes":1,"connect_errors":0,"read_errors":1,'
            '"write_errors":0,"non_2xx":3,"timeouts":2,"p50_us":4000,"p90_us":9000,"p99_us":20000,'
            '"p999_us":31000,"max_us":40000,"mean_us":5000.5}\n'
        )
        result = parse_output(output)
        assert result.per_second == 150.0
        assert (result.p50_ms, result.p99_ms, result.p999_ms) == (4.0, 20.0, 31.0)
        assert (result.non_2xx, result.socket_errors, result.timeouts) == (3, 1, 2)

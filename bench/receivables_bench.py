"""Receivables batch throughput: POST /v1/receivables/batch with 10,000 invoices, printed as invoices/s.

    PYTHONPATH=. .venv/bin/python bench/receivables_bench.py            # a temporary SQLite file
    CREDITGATE_DATABASE_URL=postgresql+asyncpg://... PYTHONPATH=. .venv/bin/python bench/receivables_bench.py

The app runs in process (no network); the figure covers validation, the all-or-nothing checks and the upserts.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from alembic import command
from pydantic import SecretStr

from app.db import alembic_config
from app.main import create_app
from app.settings import Settings

KEY = "bench-key-0000000000000000"
INVOICES = 10_000
CUSTOMERS = 100
RUNS = 3


def _batch(run: int) -> dict[str, list[dict[str, str]]]:
    today = date.today()
    rows = []
    for index in range(INVOICES):
        amount = f"{100 + index % 900}.{run:02d}"
        rows.append(
            {
                "customer_id": f"BENCH-{index % CUSTOMERS:03d}",
                "invoice_id": f"BINV-{index:05d}",
                "currency": "EUR",
                "amount": amount,
                "open_amount": amount,
                "issue_date": str(today - timedelta(days=index % 60)),
                "due_date": str(today + timedelta(days=30 - index % 60)),
            }
        )
    return {"invoices": rows}


def migrated_database() -> str:
    url = os.environ.get("CREDITGATE_DATABASE_URL")
    url = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='creditgate-bench-')) / 'bench.db'}"
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    return url


async def main(url: str) -> None:
    settings = Settings(database_url=url, api_keys=SecretStr(json.dumps({KEY: ["receivables", "read"]})))
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {KEY}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=300) as http:
            for number in range(CUSTOMERS):
                await http.put(f"/v1/customers/BENCH-{number:03d}", json={"country": "NL"}, headers=headers)
            print(f"database: {url.split('://', 1)[0]}, {INVOICES} invoices per batch, {CUSTOMERS} customers")
            for run in range(RUNS):
                body = json.dumps(_batch(run)).encode()
                started = time.perf_counter()
                response = await http.post(
                    "/v1/receivables/batch", content=body, headers={**headers, "content-type": "application/json"}
                )
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                result = response.json()
                print(
                    f"run {run + 1}: {elapsed:.2f} s, {INVOICES / elapsed:,.0f} invoices/s "
                    f"(created {result['created']}, updated {result['updated']}, body {len(body) / 1e6:.1f} MB)"
                )


if __name__ == "__main__":
    asyncio.run(main(migrated_database()))

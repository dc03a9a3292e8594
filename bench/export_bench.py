"""CSV export benchmark: peak memory while streaming GET /v1/decisions/export over N stored decisions.

    PYTHONPATH=. python bench/export_bench.py --decisions 100000 [--postgres postgresql+asyncpg://…/scratch_db]

The app is driven in process through its ASGI interface; the response body is counted and dropped as it
arrives, so the figures are the server's own. The export runs twice, over a tenth of the rows and over all of
them: a streaming export has the same peak for both. --postgres empties the decisions table first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from pydantic import SecretStr
from sqlalchemy import delete, insert

from app.db import alembic_config, create_engine
from app.decisions.models import Decision, DecisionReason
from app.main import create_app
from app.settings import Settings

KEY = "bench-key-read-000000000"
START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 5000


def decision_rows(count: int) -> Any:
    """Batches of decisions' rows; the trigger on `decisions` adds their reason rows as it does the app's."""
    for first in range(0, count, BATCH):
        decisions: list[dict[str, Any]] = []
        for index in range(first, min(first + BATCH, count)):
            decision_id = str(uuid.UUID(int=index + 1))
            decided_at = START + timedelta(seconds=index)
            codes = ["FIRST_ORDER_CAP", "WITHIN_LIMIT"] if index % 3 else ["HIGH_RISK_PREPAYMENT"]
            decisions.append(
                {
                    "id": decision_id,
                    "order_id": f"SO-{index}",
                    "customer_id": f"C-{index % 5000}",
                    "outcome": "accept" if index % 3 else "prepayment",
                    "currency": "EUR",
                    "amount_minor": 125_000 + index,
                    "credit_limit_minor": 500_000,
                    "exposure_minor": 80_000,
                    "available_credit_minor": 420_000,
                    "approved_credit_minor": 125_000 + index,
                    "prepayment_minor": 0,
                    "payment_terms_days": 30,
                    "risk_class": "A",
                    "segment": "regular",
                    "policy_version": "default-2026.11",
                    "report_provider": "simulated",
                    "report_source": "fresh",
                    "reasons": [{"code": code, "message": "…", "rule": None, "facts": {}} for code in codes],
                    "report": {"raw_hash": "ab" * 32},
                    "request": {"order": {"id": f"SO-{index}"}},
                    "inputs": {},
                    "timings": {"total_ms": 3.2},
                    "api_key_id": "key_bench",
                    "decided_at": decided_at,
                }
            )
        yield decisions


async def fill(url: str, count: int) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(delete(DecisionReason))
        await connection.execute(delete(Decision))
        for decisions in decision_rows(count):
            await connection.execute(insert(Decision), decisions)
    await engine.dispose()


async def export(url: str, params: str) -> tuple[int, int, int, float]:
    """(status, bytes, lines, seconds) of one export, the body dropped as it streams."""
    app = create_app(Settings(database_url=url, api_keys=SecretStr(json.dumps({KEY: ["read"]}))))
    received = {"bytes": 0, "lines": 0, "status": 0}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/decisions/export",
        "raw_path": b"/v1/decisions/export",
        "query_string": params.encode(),
        "headers": [(b"authorization", f"Bearer {KEY}".encode()), (b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "root_path": "",
    }
    finished = asyncio.Event()

    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:
            # Like a client that stays connected until the body is complete.
            await finished.wait()
            return {"type": "http.disconnect"}
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            received["status"] = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            received["bytes"] += len(body)
            received["lines"] += body.count(b"\n")
            if not message.get("more_body", False):
                finished.set()

    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        await app(scope, receive, send)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    return received["status"], received["bytes"], received["lines"], seconds


def measure(url: str, label: str, params: str) -> None:
    tracemalloc.start()
    tracemalloc.reset_peak()
    status, size, lines, seconds = asyncio.run(export(url, params))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  {label:18} status {status} | {lines - 1:>7,} rows, {size / 1e6:6.1f} MB in {seconds:5.1f}s | "
        f"peak traced Python memory {peak / 1e6:5.1f} MB | process max RSS so far {rss:5.0f} MB"
    )


def run(name: str, url: str, count: int) -> None:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    started = time.perf_counter()
    asyncio.run(fill(url, count))
    print(f"{name}: stored {count:,} decisions in {time.perf_counter() - started:.1f}s")
    tenth = (START + timedelta(seconds=count - count // 10)).isoformat()
    measure(url, f"last {count // 10:,}", f"decided_from={tenth.replace('+', '%2B')}")
    measure(url, f"all {count:,}", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (its decisions are deleted)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("sqlite", f"sqlite+aiosqlite:///{Path(folder) / 'export-bench.db'}", args.decisions)
    if args.postgres:
        run("postgresql", args.postgres, args.decisions)


if __name__ == "__main__":
    main()

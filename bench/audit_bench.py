"""Audit chain benchmark: build N chained events fast, then time `verify_chain` over them.

    PYTHONPATH=. python bench/audit_bench.py --events 1000000 [--postgres postgresql+asyncpg://…/scratch_db]

SQLite always runs, in a temporary file. --postgres migrates the given database and EMPTIES its audit
tables first: point it at a scratch database only. Events are bulk-inserted with hashes computed in Python
(COPY on PostgreSQL), the same way `append` computes them, so verification walks a real chain.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from sqlalchemy.engine import make_url

from app.audit.canonical import GENESIS_HASH, canonical_bytes, event_hash, rfc3339
from app.audit.verify import verify_chain
from app.db import Database, alembic_config

BATCH = 20_000
START = datetime(2026, 1, 1, tzinfo=UTC)


def chained_events(count: int) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of (seq, type, subject, payload_json, occurred_at, actor, prev_hash, hash), chained."""
    prev = GENESIS_HASH
    batch: list[tuple[Any, ...]] = []
    for seq in range(1, count + 1):
        payload = {
            "decision_id": f"00000000-0000-4000-8000-{seq:012d}",
            "order_id": f"SO-{seq}",
            "customer_id": f"C-{seq % 5000}",
            "outcome": ("accept", "prepayment", "review", "reject")[seq % 4],
            "currency": "EUR",
            "amount": f"{seq % 90_000 + 100}.00",
            "approved_credit": f"{seq % 90_000 + 100}.00",
            "prepayment": "0.00",
            "policy_version": "default-2026.11",
            "report_raw_hash": "ab" * 32,
            "reason_codes": ["FIRST_ORDER_CAP", "WITHIN_LIMIT"],
        }
        occurred_at = START + timedelta(milliseconds=seq)
        subject = str(payload["decision_id"])
        payload_json = canonical_bytes(payload)
        digest = event_hash(
            seq=seq,
            event_type="decision.created",
            subject_id=subject,
            payload_json=payload_json,
            occurred_at=rfc3339(occurred_at),
            actor="key_bench",
            prev_hash=prev,
        )
        batch.append((seq, "decision.created", subject, payload_json.decode(), occurred_at, "key_bench", prev, digest))
        prev = digest
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def migrate(url: str) -> None:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def fill_sqlite(path: Path, count: int) -> None:
    """The events inserted in one transaction; the trigger on audit_events moves the head to each (in place)."""
    connection = sqlite3.connect(path)
    with connection:
        for batch in chained_events(count):
            rows = [(*row[:4], row[4].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[5:]) for row in batch]
            connection.executemany("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.close()


async def fill_postgres(url: str, count: int) -> None:
    """The events copied in one transaction, the head set once after them (the truncate may have left none for
    the trigger, which runs once per COPY statement, to move)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL creditgate.audit_maintenance = 'on'")
            await connection.execute("TRUNCATE audit_events")
            last: tuple[int, str] = (0, GENESIS_HASH)
            for batch in chained_events(count):
                await connection.copy_records_to_table("audit_events", records=batch)
                last = (batch[-1][0], batch[-1][7])
            await connection.execute(
                "INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, $1, $2) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                *last,
            )
        await connection.execute("VACUUM ANALYZE audit_events")
    finally:
        await connection.close()


async def verify(url: str, chunk_size: int) -> tuple[float, int, bool]:
    database = Database(url)
    try:
        started = time.perf_counter()
        result = await verify_chain(database, chunk_size=chunk_size)
        return time.perf_counter() - started, result.events_checked, result.intact
    finally:
        await database.dispose()


def run(name: str, url: str, count: int, chunk_size: int, fill: Any) -> None:
    started = time.perf_counter()
    migrate(url)
    fill()
    built = time.perf_counter() - started
    seconds, checked, intact = asyncio.run(verify(url, chunk_size))
    print(
        f"{name:10} built {count:,} events in {built:6.1f}s | verified {checked:,} in {seconds:6.1f}s "
        f"= {checked / seconds:,.0f} events/s | intact={intact} | total {built + seconds:6.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (its audit tables are emptied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit-bench.db"
        run(
            "sqlite",
            f"sqlite+aiosqlite:///{path}",
            args.events,
            args.chunk_size,
            lambda: fill_sqlite(path, args.events),
        )
    if args.postgres:
        url = args.postgres
        run("postgresql", url, args.events, args.chunk_size, lambda: asyncio.run(fill_postgres(url, args.events)))


if __name__ == "__main__":
    main()

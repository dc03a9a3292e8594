"""Policy throughput: evaluator decisions per second, and replay decisions per second over stored history.

    PYTHONPATH=. python bench/policy_bench.py                      # temp SQLite file, 100k stored decisions
    PYTHONPATH=. python bench/policy_bench.py --database-url postgresql+asyncpg://...   # an EMPTY scratch database

Prints figures; asserts nothing. The replay figure includes reading the rows and decoding their JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import Database, alembic_config  # noqa: E402
from app.decisions.models import Decision  # noqa: E402
from app.policy.evaluator import evaluate  # noqa: E402
from app.policy.schema import load_policy_file  # noqa: E402
from app.policy_versions.query import ReplayFilters  # noqa: E402
from app.policy_versions.service import PolicyService  # noqa: E402
from app.settings import DEFAULT_POLICY_FILE  # noqa: E402
from tests.policy.history import synthetic_facts, synthetic_rows  # noqa: E402

POLICY = load_policy_file(DEFAULT_POLICY_FILE)
START = datetime(2025, 1, 1, tzinfo=UTC)


def bench_evaluator(count: int) -> float:
    facts = synthetic_facts(count, POLICY, seed=1)
    started = time.perf_counter()
    for order, inputs in facts:
        evaluate(order, inputs.customer, inputs.report, inputs.exposure, POLICY, inputs.rates)
    return count / (time.perf_counter() - started)


def migrate(database_url: str) -> None:
    from alembic import command

    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


async def seed(database: Database, count: int, batch: int = 5000) -> float:
    started = time.perf_counter()
    async with database.engine.begin() as connection:
        existing = (await connection.execute(text("SELECT count(*) FROM decisions"))).scalar_one()
        if existing:
            raise SystemExit(f"the database already holds {existing} decisions: give the benchmark an empty one")
    for offset in range(0, count, batch):
        rows = synthetic_rows(min(batch, count - offset), POLICY, seed=offset, start=START + timedelta(minutes=offset))
        async with database.engine.begin() as connection:
            await connection.execute(insert(Decision), rows)
    return time.perf_counter() - started


async def bench_replay(database_url: str, count: int) -> tuple[float, float, int]:
    database = Database(database_url)
    try:
        seconds_seeding = await seed(database, count)
        service = PolicyService(database, DEFAULT_POLICY_FILE)
        await service.bootstrap()
        started = time.perf_counter()
        result = await service.simulate(POLICY.version, ReplayFilters())
        elapsed = time.perf_counter() - started
        assert result.replayed == count
        return result.replayed / elapsed, seconds_seeding, result.changed
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="An empty scratch database (default: a temp SQLite file).")
    parser.add_argument("--decisions", type=int, default=100_000, help="Stored decisions to replay.")
    parser.add_argument("--evaluations", type=int, default=50_000, help="Orders for the evaluator figure.")
    args = parser.parse_args()

    print(f"evaluator: {bench_evaluator(args.evaluations):,.0f} decisions/s ({args.evaluations:,} orders, one core)")
    with tempfile.TemporaryDirectory() as scratch:
        database_url = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        migrate(database_url)
        rate, seeding, changed = asyncio.run(bench_replay(database_url, args.decisions))
    where = database_url.split(":", 1)[0]
    print(f"seeded {args.decisions:,} stored decisions in {seeding:.1f} s ({where})")
    print(f"replay:    {rate:,.0f} decisions/s ({args.decisions:,} stored decisions, {changed} changed, {where})")


if __name__ == "__main__":
    main()

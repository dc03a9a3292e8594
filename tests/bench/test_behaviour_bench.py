"""The behaviour bench's seeding and recomputation at a tiny scale: the code runs and counts what it seeded."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from bench.behaviour_bench import INVOICES_PER_CUSTOMER, recompute, seed_ledger
from bench.databases import fresh_sqlite
from bench.seed import customer_identity


class TestBehaviourBench:
    async def test_seeds_a_ledger_and_recomputes_every_customers_figures(self, tmp_path: Path) -> None:
        """On a SQLite file of its own, as the bench runs (it seeds through sqlite3 in bulk)."""
        # Migrating runs an event loop of its own, as the bench's command line does: a thread of its own here.
        database = await asyncio.to_thread(fresh_sqlite, tmp_path)
        assert database.path is not None
        seeded = await asyncio.to_thread(seed_ledger, database.path, 30)
        assert (seeded.customers, seeded.invoices, seeded.payments) == (30, 30 * INVOICES_PER_CUSTOMER, 30 * 26)

        result = await recompute(database.url, chunk=7)
        assert (result.customers, result.grouped) == (30, 10)  # the first block of ten shares a parent
        assert result.rows > 0
        punctual = result.first[customer_identity(0)[0]]
        late = result.first[customer_identity(5)[0]]  # pays 5 days late (a first half on time)
        assert punctual.value("dbt_12_months") == Decimal("0.0")
        dbt = late.value("dbt_12_months")
        assert dbt is not None
        assert Decimal(0) < dbt <= Decimal(5)
        assert late.group is not None
        assert late.group.group_id == customer_identity(0)[0]
        assert late.group.figures.paid_invoices > late.paid_invoices

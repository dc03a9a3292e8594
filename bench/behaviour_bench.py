"""Payment-behaviour bench: the figures recomputed for every customer from a large ledger (rows/s, peak memory),
and a decision's latency with the behaviour input on beside the same without it.

    python -m bench.behaviour_bench [--scale 1.0] [--chunk 1000] [--no-latency]

`--scale 1.0` seeds 100,000 customers with 25 invoices and 26 payments each (5.1 million rows) into a SQLite
file in bulk (SQLAlchemy Core executemany in one transaction per batch, the journal off while seeding), then
computes every customer's figures the way the read API does (`app.decisions.behaviour`: the customers, their
groups, their ledger and their requests for longer terms, a chunk of customers per statement), in chunks of
`--chunk`. The latency part reuses bench/latency.py's loads (wrk, one connection, then `BENCH_CONNECTIONS`) on a
`BENCH_CUSTOMERS` database seeded as `make bench` seeds it plus a ledger, once under the default policy and
once under the same policy with a `behaviour` section (each on a fresh database, as the policy is stored on
first start).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.behaviour import behaviour_groups, figures_from_rows
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.db import create_engine
from app.decisions.behaviour import behaviour_inputs
from app.policy.behaviour import BehaviourFigures
from bench.config import RESULTS, BenchConfig
from bench.databases import BenchDatabase, fresh_sqlite
from bench.seed import SEEDERS, customer_identity

CUSTOMERS_AT_SCALE_1 = 100_000
INVOICES_PER_CUSTOMER = 25
BATCH = 50_000
TODAY = date.today()


@dataclass(frozen=True)
class Seeded:
    customers: int
    invoices: int
    payments: int
    seconds: float

    @property
    def rows(self) -> int:
        return self.invoices + self.payments


INSERT_INVOICES = (
    "INSERT INTO invoices (customer_id, invoice_id, currency, amount_minor, open_amount_minor, issue_date, "
    "due_date, order_id, source, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PAYMENTS = (
    "INSERT INTO payments (customer_id, payment_id, invoice_id, currency, amount_minor, paid_on, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def ledger(customer_id: str, number: int, stamp: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """25 invoices over the last 400 days: 20 paid at once, 3 in two halves, 2 open; lateness by customer.

    Rows as SQLite stores them (dates as ISO text), for the bulk insert."""
    late = number % 60
    invoices, payments = [], []
    for index in range(INVOICES_PER_CUSTOMER):
        issue = TODAY - timedelta(days=400 - index * 16)
        due = issue + timedelta(days=30)
        amount = 10_000 + (number * 37 + index * 101) % 90_000
        invoice_id = f"I-{index}"
        parts = 1 if index < 20 else (2 if index < 23 else 0)
        paid_on = min(TODAY, due + timedelta(days=late))
        open_minor = amount if parts == 0 else 0
        invoices.append(
            (customer_id, invoice_id, "EUR", amount, open_minor, issue.isoformat(), due.isoformat(), None, "erp", stamp)
        )
        for part in range(parts):
            share = amount if parts == 1 else (amount // 2 if part == 0 else amount - amount // 2)
            day = paid_on - timedelta(days=5 * (parts - 1 - part))
            payments.append((customer_id, f"P-{index}-{part}", invoice_id, "EUR", share, day.isoformat(), stamp))
    return invoices, payments


def seed_ledger(path: Path, customers: int, *, with_customers: bool = True) -> Seeded:
    """Customers (unless seeded already), their invoices and payments, in bulk into the SQLite file `path`."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    if with_customers:
        engine = create_sync_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            rows = []
            for number in range(customers):
                customer_id, country, registration_number = customer_identity(number)
                # One customer in ten belongs to a group: the ten of a block share the block's first as parent.
                parent = customer_identity(number - number % 10)[0] if number % 10 and number % 100 < 10 else None
                rows.append(
                    {
                        "id": customer_id,
                        "name": f"Customer {number}",
                        "country": country,
                        "registration_number": registration_number,
                        "parent_id": parent,
                        "blocked": False,
                        "master_data_from": "erp",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(Customer), rows[start : start + BATCH])
        engine.dispose()
    counts = {"invoices": 0, "payments": 0}
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("BEGIN")
        invoices: list[tuple[Any, ...]] = []
        payments: list[tuple[Any, ...]] = []
        for number in range(customers + 1):
            if number < customers:
                more_invoices, more_payments = ledger(customer_identity(number)[0], number, stamp)
                invoices += more_invoices
                payments += more_payments
            if len(invoices) >= BATCH or (number == customers and invoices):
                raw.executemany(INSERT_INVOICES, invoices)
                raw.executemany(INSERT_PAYMENTS, payments)
                counts["invoices"] += len(invoices)
                counts["payments"] += len(payments)
                invoices, payments = [], []
        raw.execute("COMMIT")
    finally:
        raw.close()
    return Seeded(customers, counts["invoices"], counts["payments"], time.perf_counter() - started)


@dataclass(frozen=True)
class Recomputed:
    customers: int
    rows: int  # ledger rows read (an invoice with its payments, joined)
    grouped: int  # customers whose group's figures were computed too
    seconds: float
    first: dict[str, BehaviourFigures]  # the first chunk's figures, to look at


async def recompute(url: str, chunk: int = 1000) -> Recomputed:
    """Every stored customer's figures as of today, `chunk` customers at a time (what `figures_of` does)."""
    engine = create_engine(url)
    customers = rows = grouped = 0
    first: dict[str, BehaviourFigures] = {}
    started = time.perf_counter()
    try:
        async with engine.connect() as connection:
            ids = list((await connection.execute(select(Customer.id).order_by(Customer.id))).scalars())
        async with AsyncSession(engine) as session:
            for start in range(0, len(ids), chunk):
                piece = ids[start : start + chunk]
                listed = list((await session.scalars(select(Customer).where(Customer.id.in_(piece)))).all())
                groups = await behaviour_groups(session, listed)
                everyone = sorted({c.id for c in listed} | {m for g in groups.values() for m in g.members})
                ledger_rows, requests = await behaviour_inputs(session, everyone, as_of=TODAY)
                figures = figures_from_rows(
                    ledger_rows,
                    [c.id for c in listed],
                    as_of=TODAY,
                    currency="EUR",
                    rates=RateTable(),
                    requests=requests,
                    groups=groups,
                )
                customers += len(figures)
                rows += len(ledger_rows)
                grouped += sum(1 for f in figures.values() if f.group is not None)
                first = first or figures
                session.expunge_all()
    finally:
        await engine.dispose()
    return Recomputed(customers, rows, grouped, time.perf_counter() - started, first)


def _reset_peak_rss() -> bool:
    """Linux: start the process's peak resident memory (VmHWM) afresh, so it measures what follows alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_recompute(scale: float, chunk: int) -> None:
    customers = max(1, round(CUSTOMERS_AT_SCALE_1 * scale))
    with tempfile.TemporaryDirectory(prefix="creditgate-behaviour-") as folder:
        database = fresh_sqlite(Path(folder))
        assert database.path is not None
        seeded = seed_ledger(database.path, customers)
        print(
            f"seeded {seeded.customers:,} customers, {seeded.invoices:,} invoices and {seeded.payments:,} payments "
            f"({seeded.rows:,} rows) in {seeded.seconds:.1f}s: {seeded.rows / seeded.seconds:,.0f} rows/s "
            f"(scale {scale})"
        )
        fresh_peak = _reset_peak_rss()
        cpu = time.process_time()
        result = asyncio.run(recompute(database.url, chunk))
        cpu = time.process_time() - cpu
        print(
            f"recomputed {result.customers:,} customers' figures ({result.grouped:,} with their group's) from "
            f"{result.rows:,} ledger rows in {result.seconds:.1f}s: {result.rows / result.seconds:,.0f} rows/s, "
            f"{result.customers / result.seconds:,.0f} customers/s (chunks of {chunk}); "
            f"CPU {cpu:.1f}s: {result.rows / cpu:,.0f} rows per CPU-second; "
            f"peak RSS {'of the recomputation' if fresh_peak else 'of the process'} {_peak_rss_mb():.0f} MB"
        )


def behaviour_policy_file(folder: Path) -> Path:
    """The shipped policy with a behaviour section (the one tests/policy/behaviour_tables.py uses)."""
    from app.settings import DEFAULT_POLICY_FILE

    document = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    document["version"] = "bench-behaviour"
    document["behaviour"] = {
        "minimum_paid_invoices": 3,
        "points": {
            "dbt_90_days": {
                "ranges": [
                    {"below": "1", "points": 40},
                    {"at_least": "1", "below": "15", "points": 20},
                    {"at_least": "15", "points": 0},
                ]
            },
            "late_share": {"ranges": [{"below": "0.2", "points": 30}, {"at_least": "0.2", "points": 0}]},
            "longer_terms_requests": {"ranges": [{"below": "2", "points": 30}, {"at_least": "2", "points": 0}]},
        },
        "classes": {"A": 85, "B": 60, "C": 40, "D": 20},
        "review_classes": ["E"],
    }
    path = folder / "behaviour-policy.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def run_latency(config: BenchConfig) -> None:
    from bench.latency import _load
    from bench.server import generate_key, serve
    from bench.throughput import check_decides

    with tempfile.TemporaryDirectory(prefix="creditgate-behaviour-latency-") as folder:
        policy_file = behaviour_policy_file(Path(folder))
        for label, settings in (("behaviour off", {}), ("behaviour on", {"CREDITGATE_POLICY_FILE": str(policy_file)})):
            scratch = Path(folder) / label.replace(" ", "-")
            scratch.mkdir()
            database: BenchDatabase = fresh_sqlite(scratch)
            assert database.path is not None
            for seeder in SEEDERS:
                seeder(database, config.customers)
            seed_ledger(database.path, config.customers, with_customers=False)
            key = generate_key()
            log = RESULTS / f"server-behaviour-{label.replace(' ', '-')}.log"
            with serve(database.url, config.port, key, log, config.uvicorn_args, settings=settings) as server:
                check_decides(server)
                tag = datetime.now(UTC).strftime("%H%M%S") + label[10:12]
                for name, connections in (("one at a time", 1), ("saturated", config.connections)):
                    figures = _load(config, server, tag + name[0], connections=connections)
                    print(
                        f"  {label:13} {name:13} {connections:>3} conn: {figures['per_second']:8.1f} decisions/s, "
                        f"p50 {figures['p50_ms']:7.2f} ms, p99 {figures['p99_ms']:7.2f} ms, "
                        f"server CPU {figures['cpu_ms']:.2f} ms/decision"
                    )


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100,000 customers, 5.1 million rows")
    parser.add_argument("--chunk", type=int, default=1000, help="customers per recomputation statement")
    parser.add_argument("--no-latency", action="store_true", help="only the recomputation")
    parser.add_argument("--no-recompute", action="store_true", help="only the latency")
    args = parser.parse_args()
    if not args.no_recompute:
        run_recompute(args.scale, args.chunk)
    if not args.no_latency:
        run_latency(BenchConfig())


if __name__ == "__main__":
    main()

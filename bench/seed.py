"""Seeding, one function per kind of data, by bulk SQL so a million rows take seconds, not hours.

Rows match app/decisions/models.py's Decision columns. The JSON documents are those of a real decision
(sizes matter: they decide how many rows fit a page), with the per-row columns varied. The trigger on
`decisions` (migration 0015) writes each seeded row's reason rows, as it does for the app's decisions.

Before a throughput run, SEEDERS give every customer id `C-000000`... that bench/lua/decisions.lua sends its
ERP master data, open invoices and a cached report, so the load decides with a cached report and a real
exposure (as a checkout does for a known customer), through the app's own tables and column types.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Table, insert, text
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex

from app.customers.models import Customer, Invoice
from app.db import Base, Database
from app.decisions.models import Decision
from app.providers.base import CompanyQuery
from app.providers.models import CreditReportRecord
from app.providers.purchase import report_row
from app.providers.simulated import SimulatedProvider
from bench.databases import BenchDatabase

BATCH = 50_000
# Above this many new rows the secondary indexes are dropped and built again afterwards: one sort per
# index instead of a million random inserts into it. They are rebuilt from the model's own definitions.
REBUILD_INDEXES_ABOVE = 100_000
# Seeded decisions lie in the past, one second apart, newest last: later seeding rounds add newer rows,
# and decisions taken under load are newer still.
SECONDS_APART = 1
OUTCOMES = ("accept", "accept", "accept", "accept", "prepayment", "review", "reject")

REASONS = [
    {
        "code": "FIRST_ORDER_CAP",
        "message": "A customer's first order on credit is capped.",
        "rule": "new_customers.first_order_cap",
        "facts": {"first_order_cap": "5000.00"},
    },
    {
        "code": "WITHIN_LIMIT",
        "message": "The order fits within the available credit.",
        "rule": "grid.B.regular",
        "facts": {"amount": "1250.00", "available_credit": "5000.00"},
    },
]
REPORT = {
    "provider": "simulated",
    "reference": "SIM-B4CB81EA44EC",
    "country": "NL",
    "registration_number": "12345672",
    "company_name": "Bakkerij Jansen B.V.",
    "status": "active",
    "risk_class": "B",
    "score": 67,
    "recommended_limit": "49000",
    "limit_currency": "EUR",
    "days_beyond_terms": 2,
    "negative_events": [],
    "fetched_at": "2026-11-23T06:17:04.268119+00:00",
    "cost": "9.50",
    "cost_currency": "EUR",
    "raw_hash": "9f044e822743249069d4f0b20ba6af4ea587dc0858fa279a96b43718c35405a2",
}
REQUEST = {
    "order": {"id": "SO-1", "currency": "EUR", "amount": "1250.00"},
    "customer": {"id": "C-1", "name": "Bakkerij Jansen B.V.", "country": "NL", "registration_number": "12345672"},
}
INPUTS = {
    "customer": {
        "customer_id": "C-1",
        "segment": None,
        "blocked": False,
        "block_reason": None,
        "manual_limit": None,
        "manual_limit_reason": None,
        "first_order": True,
    },
    "report": {
        "source": "fresh",
        "risk_class": "B",
        "score": 67,
        "recommended_limit": "49000",
        "limit_currency": "EUR",
        "provider": "simulated",
        "reference": "SIM-B4CB81EA44EC",
    },
    "exposure": {"open_receivables": "0", "reserved": "0", "overdue_amount": "0", "oldest_overdue_days": 0},
    "rates": {},
}
TIMINGS = {"provider_ms": 0.205, "total_ms": 6.437}
DOCUMENTS = [json.dumps(document) for document in (REASONS, REPORT, REQUEST, INPUTS, TIMINGS)]

QUEUE_OPEN_CASES = """
INSERT INTO review_cases (decision_id, decided_at)
SELECT d.id, d.decided_at FROM decisions d
WHERE d.outcome = 'review'
  AND NOT EXISTS (SELECT 1 FROM review_cases c WHERE c.decision_id = d.id)
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.id AND r.final)
"""

COLUMNS = (
    "id, order_id, customer_id, outcome, currency, amount_minor, credit_limit_minor, exposure_minor,"
    " available_credit_minor, approved_credit_minor, prepayment_minor, payment_terms_days, risk_class, segment,"
    " policy_version, report_provider, report_source, reasons, report, request, inputs, timings, api_key_id,"
    " decided_at"
)


def seed_decisions(
    database: BenchDatabase,
    target: int,
    customers: int,
    newest: datetime,
    rebuild_indexes_above: int = REBUILD_INDEXES_ABOVE,
) -> int:
    """Adds seeded decisions until the table holds `target` rows; returns how many were added."""
    from bench.databases import count_decisions

    present = count_decisions(database)
    missing = max(0, target - present)
    if not missing:
        return 0
    started = time.monotonic()
    # Row number n (counting every seeded row ever) is dated `newest - (max_rows - n)` seconds: stable across rounds.
    first = present + 1
    rebuild = missing > rebuild_indexes_above
    if database.kind == "sqlite":
        _seed_decisions_sqlite(database, first, missing, customers, newest, rebuild)
    else:
        asyncio.run(_seed_decisions_postgres(database, first, missing, customers, newest, rebuild))
    asyncio.run(_queue_review_cases(database))
    print(f"  seeded {missing:,} decisions in {time.monotonic() - started:.1f} s", flush=True)
    return missing


async def _queue_review_cases(database: BenchDatabase) -> None:
    """Seeded decisions sent to review wait in the review queue, as the decision path puts them there."""
    db = Database(database.url)
    try:
        async with db.transaction() as session:
            await session.execute(text(QUEUE_OPEN_CASES))
    finally:
        await db.dispose()


def _decided_at(newest: datetime, number: int) -> datetime:
    return newest - timedelta(seconds=SEEDED_SPAN - number * SECONDS_APART)


# Seeded row numbers never exceed this: the oldest seeded decision is about 23 days before `newest`.
SEEDED_SPAN = 2_000_000


def _rows(first: int, count: int, customers: int, newest: datetime) -> Iterator[tuple[Any, ...]]:
    reasons, report, request, inputs, timings = DOCUMENTS
    for number in range(first, first + count):
        amount = 25_000 + (number * 7919) % 2_000_000
        outcome = OUTCOMES[number % len(OUTCOMES)]
        approved = 0 if outcome in ("review", "reject") else amount
        yield (
            str(uuid.uuid4()),
            f"SO-SEED-{number}",
            f"C-{number % customers:06d}",
            outcome,
            "EUR",
            amount,
            5_000_000,
            0,
            5_000_000,
            approved,
            amount - approved if outcome == "prepayment" else 0,
            30,
            "B",
            "regular",
            "default-2026.11",
            "simulated",
            "fresh",
            reasons,
            report,
            request,
            inputs,
            timings,
            "key_seeded",
            # SQLAlchemy's SQLite DateTime storage format: naive UTC with microseconds.
            _decided_at(newest, number).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        )


def _seed_decisions_sqlite(
    database: BenchDatabase, first: int, count: int, customers: int, newest: datetime, rebuild: bool
) -> None:
    assert database.path is not None
    placeholders = ", ".join("?" * 24)
    statement = f"INSERT INTO decisions ({COLUMNS}) VALUES ({placeholders})"  # noqa: S608 - constant columns
    with closing(sqlite3.connect(database.path, isolation_level=None)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB for this connection's index builds
        if rebuild:
            for statement_text in _drop_indexes():
                connection.execute(statement_text)
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(statement, _rows(first + done, size, customers, newest))
            connection.execute("COMMIT")
            done += size
        if rebuild:
            for statement_text in _create_indexes("sqlite"):
                connection.execute(statement_text)
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


POSTGRES_INSERT = f"""
INSERT INTO decisions ({COLUMNS})
SELECT gen_random_uuid()::text,
       'SO-SEED-' || n,
       'C-' || lpad((n % $3)::text, 6, '0'),
       (ARRAY['accept','accept','accept','accept','prepayment','review','reject'])[1 + n % 7],
       'EUR',
       25000 + (n * 7919) % 2000000,
       5000000, 0, 5000000,
       CASE WHEN n % 7 IN (5, 6) THEN 0 ELSE 25000 + (n * 7919) % 2000000 END,
       CASE WHEN n % 7 = 4 THEN 25000 + (n * 7919) % 2000000 ELSE 0 END,
       30, 'B', 'regular', 'default-2026.11', 'simulated', 'fresh',
       $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb,
       'key_seeded',
       $9::timestamptz - make_interval(secs => {SEEDED_SPAN} - n * {SECONDS_APART})
FROM generate_series($1::bigint, $2::bigint) AS n
"""  # noqa: S608 - constant columns and numbers


async def _seed_decisions_postgres(
    database: BenchDatabase, first: int, count: int, customers: int, newest: datetime, rebuild: bool
) -> None:
    connection = await asyncpg.connect(database.asyncpg_dsn, timeout=10)
    try:
        # Seeding only: nothing is lost that the run could not seed again.
        await connection.execute("SET synchronous_commit = off")
        await connection.execute("SET maintenance_work_mem = '256MB'")
        if rebuild:
            for statement_text in _drop_indexes():
                await connection.execute(statement_text)
        done = 0
        while done < count:
            size = min(BATCH * 2, count - done)
            start = first + done
            await connection.execute(POSTGRES_INSERT, start, start + size - 1, customers, *DOCUMENTS, newest)
            done += size
        if rebuild:
            for statement_text in _create_indexes("postgresql"):
                await connection.execute(statement_text)
        await connection.execute("VACUUM ANALYZE decisions")
    finally:
        await connection.close()


DECISIONS = cast(Table, Decision.__table__)


def _drop_indexes() -> list[str]:
    return [f"DROP INDEX {index.name}" for index in DECISIONS.indexes]


def _create_indexes(dialect_name: str) -> list[str]:
    dialect: Dialect = SQLiteDialect() if dialect_name == "sqlite" else PGDialect()  # type: ignore[no-untyped-call]
    return [str(CreateIndex(index).compile(dialect=dialect)) for index in DECISIONS.indexes]


# The same spread of countries as bench/lua/decisions.lua gives customer n: COUNTRIES[n % len(COUNTRIES)].
COUNTRIES = ("NL", "NL", "NL", "DE", "DE", "BE", "FR", "AT")
SEED_CHUNK = 5_000


def customer_identity(number: int) -> tuple[str, str, str]:
    """Customer n's id, country and stable registration number, exactly as the load sends them."""
    return f"C-{number:06d}", COUNTRIES[number % len(COUNTRIES)], f"1{number:06d}{number % 10}"


def seed_customers(database: BenchDatabase, customers: int) -> str:
    """ERP master data for every customer the load sends: one in twenty a key account, one in fifty blocked."""
    now = datetime.now(UTC)
    rows = []
    for number in range(customers):
        customer_id, country, registration_number = customer_identity(number)
        blocked = number % 50 == 49
        rows.append(
            {
                "id": customer_id,
                "name": f"Customer {number} B.V.",
                "country": country,
                "registration_number": registration_number,
                "segment": "key_account" if number % 20 == 0 else "regular",
                "parent_id": None,
                "limit_currency": "EUR",
                "manual_limit_minor": None,
                "manual_limit_reason": None,
                "manual_limit_expires_at": None,
                "group_limit_minor": None,
                "blocked": blocked,
                "block_reason": "bench: blocked by credit control" if blocked else None,
                "payment_terms_days": 30,
                "master_data_from": "erp",
                "created_at": now,
                "updated_at": now,
            }
        )
    asyncio.run(insert_rows(database, Customer, rows))
    return f"customers: {customers:,} from the ERP ({customers // 20:,} key accounts, {customers // 50:,} blocked)"


def seed_receivables(database: BenchDatabase, customers: int) -> str:
    """Two open invoices per customer, one not yet due; every seventh customer's older one is long overdue."""
    now = datetime.now(UTC)
    today = now.date()
    rows = []
    for number in range(customers):
        customer_id = customer_identity(number)[0]
        long_overdue = number % 7 == 0
        for index, (amount_minor, age_days) in enumerate(((80_000 + number % 500 * 100, 10), (45_000, 75))):
            issued = today - timedelta(days=age_days if index == 0 or long_overdue else 20)
            rows.append(
                {
                    "customer_id": customer_id,
                    "invoice_id": f"INV-{number:06d}-{index}",
                    "currency": "EUR",
                    "amount_minor": amount_minor,
                    "open_amount_minor": amount_minor,
                    "issue_date": issued,
                    "due_date": issued + timedelta(days=30),
                    "order_id": None,
                    "source": "erp",
                    "updated_at": now,
                }
            )
    asyncio.run(insert_rows(database, Invoice, rows))
    overdue = len(range(0, customers, 7))
    return f"receivables: {len(rows):,} open invoices, {overdue:,} customers overdue beyond the policy's tolerance"


def seed_report_cache(database: BenchDatabase, customers: int) -> str:
    """A day-old simulated report per customer in the shared cache, so the load decides on cached reports."""
    provider = SimulatedProvider()
    fetched_at = datetime.now(UTC) - timedelta(days=1)

    async def reports() -> list[dict[str, Any]]:
        rows = []
        for number in range(customers):
            _customer_id, country, registration_number = customer_identity(number)
            company = CompanyQuery(country, registration_number)
            report = dataclasses.replace(await provider.fetch_report(company), fetched_at=fetched_at)
            rows.append(report_row(company, report))
        return rows

    rows = asyncio.run(reports())
    asyncio.run(insert_rows(database, CreditReportRecord, rows))
    return f"report cache: {len(rows):,} simulated reports, a day old (fresh under the policy's maximum age)"


async def insert_rows(database: BenchDatabase, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Bulk insert through the app's own engine and column types (executemany in chunks), then the table's
    statistics, as a database in service has them (autovacuum would take up to a minute, into the load)."""
    db = Database(database.url)
    try:
        for start in range(0, len(rows), SEED_CHUNK):
            async with db.transaction() as session:
                await session.execute(insert(model), rows[start : start + SEED_CHUNK])
        async with db.engine.connect() as connection:
            await connection.execute(text(f"ANALYZE {model.__tablename__}"))
            await connection.commit()
    finally:
        await db.dispose()


# Run in this order before a throughput run; each returns a note for the printed summary.
SEEDERS: tuple[Callable[[BenchDatabase, int], str], ...] = (seed_customers, seed_receivables, seed_report_cache)

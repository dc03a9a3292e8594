"""Server time per console page with many stored decisions (1M by default), in process.

    python -m bench.console_bench                      # SQLite, 1,000,000 decisions
    python -m bench.console_bench --decisions 100000 --database-url postgresql+asyncpg://...

Decisions are bulk-seeded with bench/seed.py; one customer (C-000001) gets master data and invoices so its
credit file has something to show. Of the seeded decisions sent to review, all but the newest OPEN_CASES are
settled by a review, and one open case in SECOND_REVIEW_EVERY awaits its second reviewer: the review queue
reads past the settled history to the open cases, as in a queue that is worked every day. Each page is
requested through the ASGI app (no network, no browser): the figure is the time from request to the last
byte of the rendered page, p50 and p95 of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import delete, select

from app.db import Database
from app.decisions.models import Decision, OpenCase, Review
from app.main import create_app
from app.settings import Settings
from bench.databases import BenchDatabase, count_decisions, fresh_postgres, fresh_sqlite
from bench.seed import insert_rows, seed_decisions

KEY = "bench-console-key-000000000000"
CUSTOMERS = 10_000
RUNS = 30
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# Open cases: a day's intake, more than one queue page (20), so that its next page is measured too.
OPEN_CASES = 200
SECOND_REVIEW_EVERY = 4  # open cases that had a first review and await the second pair of eyes
REVIEW_OUTCOMES = ("accept", "prepayment", "reject")


async def measure(database: BenchDatabase, runs: int) -> list[tuple[str, float, float]]:
    settings = Settings(
        database_url=database.url,
        api_keys=SecretStr(json.dumps({KEY: ["read", "review", "admin", "receivables"]})),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test", timeout=60) as client:
            await _customer(client)
            form = await client.get("/console/sign-in")
            token = _token(form.text)
            signed = await client.post("/console/sign-in", data={"api_key": KEY, "csrf_token": token})
            assert signed.status_code == 303, signed.text
            return await _pages(client, runs)


async def _pages(client: httpx.AsyncClient, runs: int) -> list[tuple[str, float, float]]:
    history = await client.get("/console/decisions")
    decision_id = re.search(r'href="/console/decisions/([0-9a-f-]{36})"', history.text)
    older = re.search(r'href="/console/decisions\?([^"]+)" rel="next"', history.text)
    assert decision_id is not None, "the history page shows no decisions"
    assert older is not None, "the history page has no next page"
    queue = await client.get("/console/reviews")
    assert 'class="card case"' in queue.text, "the review queue shows no open case"
    later_cases = re.search(r'href="/console/reviews\?cursor=([^"]+)" rel="next"', queue.text)
    assert later_cases is not None, "the review queue has no next page"
    policy_page = await client.get("/console/policies/default-2026.11")
    token = _token(policy_page.text)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    gets = {
        "history (newest 50)": "/console/decisions",
        "history, next page (cursor)": "/console/decisions?" + older.group(1).replace("&amp;", "&"),
        "history, one customer": "/console/decisions?customer_id=C-000001",
        "history, outcome reject": "/console/decisions?outcome=reject",
        "history, since a day": f"/console/decisions?decided_from={yesterday}",
        "one decision": f"/console/decisions/{decision_id.group(1)}",
        "credit file with charts": "/console/customers/C-000001",
        "policy versions": "/console/policies",
        "one policy version": "/console/policies/default-2026.11",
        "provider spend (30 days)": "/console/spend",
        "review queue (oldest 20 open)": "/console/reviews",
        "review queue, next page (cursor)": "/console/reviews?cursor=" + later_cases.group(1),
    }
    figures = []
    for name, path in gets.items():
        figures.append((name, *await _time(runs, functools.partial(client.get, path))))
    whatif = {"csrf_token": token, "customer_id": "C-000001"}
    figures.append(
        (
            "what-if replay, one customer",
            *await _time(
                runs, functools.partial(client.post, "/console/policies/default-2026.11/simulate", data=whatif)
            ),
        )
    )
    return figures


async def _time(runs: int, request: Callable[[], Awaitable[httpx.Response]]) -> tuple[float, float]:
    samples = []
    for number in range(runs + 3):
        started = time.perf_counter()
        response = await request()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, f"{response.status_code}: {response.text[:500]}"
        if number >= 3:  # the first runs warm caches and connections
            samples.append(elapsed)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


async def _customer(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    master = {"name": "Bench B.V.", "country": "NL", "registration_number": "12345670"}
    response = await client.put("/v1/customers/C-000001", json=master, headers=headers)
    assert response.status_code in (200, 201), response.text
    today = date.today()
    for number in range(20):
        due = today + timedelta(days=30 - number * 7)
        body = {
            "currency": "EUR",
            "amount": f"{1000 + number * 100}.00",
            "open_amount": f"{1000 + number * 100}.00",
            "issue_date": str(due - timedelta(days=30)),
            "due_date": str(due),
        }
        response = await client.put(f"/v1/customers/C-000001/invoices/INV-{number}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text


def seed_reviews(database: BenchDatabase) -> str:
    """Settles the seeded review cases but the newest OPEN_CASES; some open ones have had their first review."""

    async def seed() -> str:
        db = Database(database.url)
        try:
            async with db.read() as session:
                query = (
                    select(Decision.id, Decision.decided_at, Decision.amount_minor)
                    .where(Decision.outcome == "review")
                    .order_by(Decision.decided_at, Decision.id)
                )
                cases = (await session.execute(query)).all()
        finally:
            await db.dispose()
        settled = len(cases) - min(OPEN_CASES, len(cases))
        rows = []
        for number, (decision_id, decided_at, amount_minor) in enumerate(cases):
            if number < settled:
                rows.append(_review(decision_id, decided_at, amount_minor, REVIEW_OUTCOMES[number % 3], final=True))
            elif number % SECOND_REVIEW_EVERY == 0:
                rows.append(_review(decision_id, decided_at, amount_minor, "accept", final=False))
        await insert_rows(database, Review, rows)
        settled_ids = [row["decision_id"] for row in rows if row["final"]]
        db = Database(database.url)
        try:
            for start in range(0, len(settled_ids), 5000):
                async with db.transaction() as session:  # as the settling review does
                    chunk = settled_ids[start : start + 5000]
                    await session.execute(delete(OpenCase).where(OpenCase.decision_id.in_(chunk)))
        finally:
            await db.dispose()
        return f"reviews: {settled:,} cases settled, {len(cases) - settled:,} open ({len(rows) - settled:,} halfway)"

    return asyncio.run(seed())


def _review(
    decision_id: str, decided_at: datetime, amount_minor: int, outcome: str, *, final: bool
) -> dict[str, object]:
    """One reviewer's step, a minute after the decision: one that settles the case, or the first of four eyes."""
    approved = {"accept": amount_minor, "prepayment": amount_minor // 2, "reject": 0}[outcome]
    return {
        "id": str(uuid.uuid4()),
        "decision_id": decision_id,
        "step": 1,
        "final": final,
        "reviewer": "key_bench_reviewer",
        "outcome": outcome,
        "currency": "EUR",
        "approved_credit_minor": approved,
        "prepayment_minor": amount_minor - approved if outcome == "prepayment" else 0,
        "reason": "bench: reviewed against the credit file",
        "reviewed_at": decided_at + timedelta(minutes=1),  # seeded decisions end a minute ago
    }


def _token(page: str) -> str:
    found = TOKEN.search(page)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a PostgreSQL URL the bench may reset; default a temporary SQLite")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="creditgate-console-bench-") as tmp:
        database = fresh_postgres(args.database_url) if args.database_url else fresh_sqlite(Path(tmp))
        print(f"[{database.kind}] seeding {args.decisions:,} decisions over {CUSTOMERS:,} customers", flush=True)
        seed_decisions(database, args.decisions, CUSTOMERS, datetime.now(UTC) - timedelta(minutes=1))
        print(f"  {seed_reviews(database)}", flush=True)
        stored = count_decisions(database)
        figures = asyncio.run(measure(database, args.runs))
    print(f"\nconsole server time per page, {database.kind}, {stored:,} stored decisions, {args.runs} runs each")
    print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, p50, p95 in figures:
        print(f"{name:<32} {p50:>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()

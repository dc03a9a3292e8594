"""Retention: decisions older than the period are purged in recorded batches; younger ones and audit events stay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.audit.verify import verify_chain
from app.cli import cli
from app.db import Database, create_engine
from app.decisions.models import Decision
from app.retention.service import purge_decisions, retention_cutoff
from app.settings import get_settings
from tests.conftest import auth, count_rows, order_body, truncate_all

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAYS = 730


async def decide_aged(client: httpx.AsyncClient, engine: AsyncEngine, ages: dict[str, timedelta]) -> None:
    """One decision per order id, then moved back in time by its age (relative to NOW)."""
    for order_id, age in ages.items():
        body = order_body(order_id=order_id)
        assert (await client.post("/v1/decisions", json=body, headers=auth())).status_code == 201
        async with engine.begin() as connection:
            await connection.execute(update(Decision).where(Decision.order_id == order_id).values(decided_at=NOW - age))


async def remaining_orders(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(Decision.order_id))).scalars())


async def purge_events(engine: AsyncEngine) -> list[dict]:
    async with engine.connect() as connection:
        query = select(AuditEvent.payload).where(AuditEvent.event_type == "retention.purged").order_by(AuditEvent.seq)
        return list((await connection.execute(query)).scalars())


class TestPurge:
    async def test_deletes_only_decisions_older_than_the_period(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        period = timedelta(days=DAYS)
        ages = {
            "SO-ANCIENT": timedelta(days=1000),
            "SO-JUST-OVER": period + timedelta(microseconds=1),
            "SO-EXACTLY": period,
            "SO-JUST-UNDER": period - timedelta(seconds=1),
            "SO-RECENT": timedelta(days=3),
        }
        await decide_aged(client, engine, ages)
        database = Database(database_url)
        result = await purge_decisions(database, DAYS, actor="cli:retention", now=NOW)
        verification = await verify_chain(database)
        await database.dispose()
        assert result.deleted == 2
        assert await remaining_orders(engine) == {"SO-EXACTLY", "SO-JUST-UNDER", "SO-RECENT"}
        assert await count_rows(engine, "decision_reasons") > 0
        async with engine.connect() as connection:
            orphans = await connection.execute(
                text("SELECT count(*) FROM decision_reasons WHERE decision_id NOT IN (SELECT id FROM decisions)")
            )
            assert orphans.scalar_one() == 0
        [event] = await purge_events(engine)
        assert (event["deleted"], event["retention_days"], event["table"]) == (2, DAYS, "decisions")
        assert event["cutoff"] == "2024-11-23T12:00:00.000000Z"
        # The purge removes decisions, never their audit events, and the chain still holds.
        async with engine.connect() as connection:
            created = await connection.execute(
                text("SELECT count(*) FROM audit_events WHERE event_type = 'decision.created'")
            )
            assert created.scalar_one() == len(ages)
        assert verification.intact

    async def test_records_every_batch_and_a_purge_that_found_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        await decide_aged(client, engine, {"SO-1": timedelta(days=900), "SO-2": timedelta(days=800)})
        database = Database(database_url)
        first = await purge_decisions(database, DAYS, actor="cli:retention", now=NOW, batch_size=1)
        again = await purge_decisions(database, DAYS, actor="cli:retention", now=NOW)
        await database.dispose()
        assert (first.deleted, again.deleted) == (2, 0)
        assert [event["deleted"] for event in await purge_events(engine)] == [1, 1, 0, 0]

    def test_refuses_a_period_under_one_day(self) -> None:
        with pytest.raises(ValueError, match="at least one day"):
            retention_cutoff(0, NOW)


class TestPurgeCommand:
    def test_dry_run_counts_and_purge_deletes_and_records(
        self, client_free_db: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CREDITGATE_DATABASE_URL", client_free_db)
        monkeypatch.setenv("CREDITGATE_DECISION_RETENTION_DAYS", "30")
        get_settings.cache_clear()
        runner = CliRunner()
        try:
            dry = runner.invoke(cli, ["retention", "purge", "--dry-run"])
            real = runner.invoke(cli, ["retention", "purge"])
        finally:
            get_settings.cache_clear()
        assert dry.exit_code == 0, dry.output
        assert "1 decisions taken before" in dry.output
        assert real.exit_code == 0, real.output
        assert "deleted 1 decisions" in real.output


@pytest.fixture
def client_free_db(database_url: str) -> str:
    """The test database holding one decision from 40 days ago, set up without an event loop of the test's."""

    async def seed() -> None:
        engine = create_engine(database_url)
        await truncate_all(engine)
        async with engine.begin() as connection:
            await connection.execute(
                Decision.__table__.insert().values(
                    id="00000000-0000-0000-0000-000000000001",
                    order_id="SO-OLD",
                    customer_id="C-1",
                    outcome="accept",
                    currency="EUR",
                    amount_minor=100,
                    credit_limit_minor=100,
                    exposure_minor=0,
                    available_credit_minor=100,
                    approved_credit_minor=100,
                    prepayment_minor=0,
                    payment_terms_days=30,
                    risk_class="A",
                    segment="new",
                    policy_version="test",
                    report_provider=None,
                    report_source="none",
                    reasons=[],
                    report=None,
                    request={},
                    inputs={},
                    timings={},
                    api_key_id="key_test",
                    decided_at=datetime.now(UTC) - timedelta(days=40),
                )
            )
        await engine.dispose()

    asyncio.run(seed())
    return database_url

"""The monitor re-pulls only reports past the monitoring age; failed webhooks back off and wait their turn."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.providers.models import CreditReportRecord
from app.services import services_of
from app.settings import Settings
from app.webhooks.dispatcher import RetryRules
from tests.erp import decide, put_customer
from tests.monitoring.conftest import Running
from tests.monitoring.receiver import Receiver
from tests.monitoring.test_monitoring import downgrade, scalar, subscribe


class TestBackoffRule:
    def test_each_failure_doubles_the_ceiling_up_to_the_maximum(self) -> None:
        rules = RetryRules(backoff_base_seconds=10, backoff_max_seconds=300)
        for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (12, 300)):
            delays = [rules.delay(attempts) for _ in range(50)]
            assert all(timedelta(seconds=ceiling / 2) <= delay <= timedelta(seconds=ceiling) for delay in delays)
            assert len(set(delays)) > 1  # jittered: failed receivers are not retried in lockstep


@pytest.fixture
def monitor_settings(monitor_settings: Settings) -> Settings:
    """An hour's backoff: a failed delivery is not due again within the test."""
    return monitor_settings.model_copy(update={"webhooks_backoff_base_seconds": 3600})


class TestBackoffIsHonoured:
    async def test_a_failed_delivery_waits_for_its_next_attempt(
        self, running: Running, receiver: Receiver, engine: AsyncEngine
    ) -> None:
        await subscribe(running.client, receiver.url)  # nothing listens yet
        await downgrade(running)
        await services_of(running.app).monitor.run_pass(10)
        assert await services_of(running.app).dispatcher.dispatch_once() == 0
        await receiver.start()
        assert await services_of(running.app).dispatcher.dispatch_once() == 0  # due in half an hour at the earliest
        assert receiver.received == []
        assert await scalar(engine, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 0
        assert await scalar(engine, "SELECT max(attempts) FROM webhook_deliveries") == 1


async def age_reports(engine: AsyncEngine, by: timedelta) -> None:
    """Every stored report as if bought `by` earlier: the column and the snapshot the monitor reads."""
    table = CreditReportRecord.__table__
    async with engine.begin() as connection:
        rows = (await connection.execute(select(table.c.id, table.c.snapshot, table.c.fetched_at))).all()
        for row in rows:
            fetched_at = row.fetched_at.replace(tzinfo=UTC) - by
            snapshot = {**row.snapshot, "fetched_at": fetched_at.isoformat()}
            values = {"snapshot": snapshot, "fetched_at": fetched_at}
            await connection.execute(update(table).where(table.c.id == row.id).values(**values))
    assert rows


class TestMonitoringAge:
    async def test_only_a_report_past_the_monitoring_age_is_bought_again(
        self, running: Running, engine: AsyncEngine
    ) -> None:
        await put_customer(running.client, registration_number="12345672")
        await decide(running.client, "1000.00", "SO-1")
        fresh = await services_of(running.app).monitor.run_pass(10)
        assert (fresh.candidates, fresh.report_calls) == (1, 0)

        await age_reports(engine, timedelta(days=400))  # far past the policy's monitoring age
        stale = await services_of(running.app).monitor.run_pass(10)
        assert stale.report_calls == 1
        assert await scalar(engine, "SELECT count(*) FROM credit_reports") == 2

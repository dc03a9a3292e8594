"""`creditgate monitor` and `creditgate webhooks dispatch` from the command line, and the pass lease."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from typer.testing import CliRunner

from app.cli import cli
from app.customers.models import Customer, Invoice
from app.db import create_engine
from app.monitoring.models import MonitorLease
from app.settings import get_settings
from tests.conftest import truncate_all

runner = CliRunner()


async def _seed(database_url: str, customers: int, lease_holder: str | None = None) -> None:
    engine = create_engine(database_url)
    await truncate_all(engine)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        for index in range(customers):
            customer_id = f"C-{index}"
            await connection.execute(
                insert(Customer).values(
                    id=customer_id,
                    country="NL",
                    registration_number=f"2000000{index}",
                    blocked=False,
                    master_data_from="erp",
                    created_at=now,
                    updated_at=now,
                )
            )
            await connection.execute(
                insert(Invoice).values(
                    customer_id=customer_id,
                    invoice_id="INV-1",
                    currency="EUR",
                    amount_minor=10_000 * (index + 1),
                    open_amount_minor=10_000 * (index + 1),
                    issue_date=date.today(),
                    due_date=date.today() + timedelta(days=30),
                    source="erp",
                    updated_at=now,
                )
            )
        if lease_holder is not None:
            await connection.execute(
                insert(MonitorLease).values(
                    name="monitor_pass", holder=lease_holder, expires_at=now + timedelta(hours=1)
                )
            )
    await engine.dispose()


async def _count(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        count = int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608
    await engine.dispose()
    return count


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CREDITGATE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


class TestMonitorCommand:
    def test_a_pass_stays_within_the_budget_option(self, cli_database: str) -> None:
        asyncio.run(_seed(cli_database, 3))
        result = runner.invoke(cli, ["monitor", "--budget", "1"])
        assert result.exit_code == 0, result.output
        assert "3 customer(s) checked, 1 report call(s) of 1, 2 left for the next pass" in result.output
        assert asyncio.run(_count(cli_database, "credit_reports")) == 1

    def test_refuses_to_run_while_another_pass_holds_the_lease(self, cli_database: str) -> None:
        asyncio.run(_seed(cli_database, 1, lease_holder="another-replica"))
        result = runner.invoke(cli, ["monitor"])
        assert result.exit_code == 75
        assert asyncio.run(_count(cli_database, "credit_reports")) == 0


class TestDispatchCommand:
    def test_one_pass_with_nothing_due(self, cli_database: str) -> None:
        asyncio.run(_seed(cli_database, 0))
        result = runner.invoke(cli, ["webhooks", "dispatch"])
        assert result.exit_code == 0, result.output
        assert "0 delivery(ies) delivered" in result.output

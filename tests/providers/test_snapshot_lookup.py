"""The cache lookup of several companies at once: their newest reports only, and found by index, not by a scan."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import table_of, utcnow
from app.providers.models import CreditReportRecord
from app.providers.repository import LATEST_SNAPSHOTS_OF_MANY, latest_snapshots_of_many

REPORTS = table_of(CreditReportRecord)


def report(country: str, number: str, provider: str, age_days: int) -> dict[str, Any]:
    fetched_at = utcnow() - timedelta(days=age_days)
    return {
        "id": str(uuid4()),
        "provider": provider,
        "country": country,
        "registration_number": number,
        "reference": f"{provider}-{country}-{number}-{age_days}",
        "snapshot": {"company": f"{country}{number}", "age_days": age_days},
        "raw": {},
        "raw_hash": "0" * 64,
        "fetched_at": fetched_at,
        "cost_minor": 0,
        "cost_currency": "EUR",
    }


class TestLatestSnapshotsOfMany:
    async def test_each_wanted_companys_newest_report_per_provider_and_nothing_else(self, engine: AsyncEngine) -> None:
        rows = [
            report("NL", "111", "simulated", 3),
            report("NL", "111", "simulated", 1),  # the newer one of the two
            report("NL", "111", "creditsafe", 9),
            report("DE", "222", "simulated", 2),
            # Combinations of the wanted countries and numbers that are no wanted company.
            report("NL", "222", "simulated", 0),
            report("DE", "111", "simulated", 0),
            report("BE", "111", "simulated", 0),
            report("NL", "111", "other", 0),  # a provider not asked for
        ]
        async with engine.begin() as connection:
            await connection.execute(REPORTS.insert(), rows)
            found = await latest_snapshots_of_many(
                connection, ["simulated", "creditsafe"], [("NL", "111"), ("DE", "222"), ("FR", "333")]
            )
        assert found == {
            ("NL", "111"): {
                "simulated": {"company": "NL111", "age_days": 1},
                "creditsafe": {"company": "NL111", "age_days": 9},
            },
            ("DE", "222"): {"simulated": {"company": "DE222", "age_days": 2}},
        }

    def test_sqlite_looks_each_company_up_in_the_index(self) -> None:
        """The plan SQLite makes for several companies: a search of the company index, never a scan of it."""
        with closing(sqlite3.connect(":memory:")) as connection:
            engine = create_sync_engine("sqlite://", creator=lambda: connection)
            REPORTS.create(engine)  # with its indexes, as the migrations make them
            statement = LATEST_SNAPSHOTS_OF_MANY.params(
                countries=["DE", "NL"], numbers=["111", "222", "333"], providers=["simulated"]
            )
            sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
            plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}")]
        searches = [step for step in plan if "credit_reports" in step]
        assert searches, plan
        assert all(step.startswith("SEARCH credit_reports USING INDEX") for step in searches), plan

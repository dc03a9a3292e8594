"""On SQLite an answered decision is on disk, power loss included: the log is synced at every commit by default."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.db import Database
from app.settings import Settings

# SQLite's codes for PRAGMA synchronous.
NORMAL, FULL = 1, 2


async def synchronous_of(database: Database) -> int:
    try:
        async with database.transaction() as session:
            return int((await session.execute(text("PRAGMA synchronous"))).scalar_one())
    finally:
        await database.dispose()


class TestSqliteSynchronous:
    async def test_the_served_database_syncs_every_commit(self, settings: Settings) -> None:
        if not settings.is_sqlite:
            pytest.skip("SQLite's pragma")
        assert await synchronous_of(Database.from_settings(settings)) == FULL

    async def test_normal_is_a_setting_that_says_so(self, settings: Settings) -> None:
        if not settings.is_sqlite:
            pytest.skip("SQLite's pragma")
        relaxed = settings.model_copy(update={"sqlite_synchronous": "NORMAL"})
        assert await synchronous_of(Database.from_settings(relaxed)) == NORMAL

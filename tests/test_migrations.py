"""Alembic owns the schema: the models and the migrations agree, and the chain goes down and up again."""

from __future__ import annotations

import asyncio

import httpx
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import alembic_config
from tests.test_reviews import decide, queue, review


def _config(database_url: str) -> Config:
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    return config


class TestMigrations:
    def test_models_match_migrations(self, database_url: str) -> None:
        command.check(_config(database_url))

    def test_one_head(self, database_url: str) -> None:
        assert len(ScriptDirectory.from_config(_config(database_url)).get_heads()) == 1

    def test_downgrade_to_base_and_upgrade_again(self, database_url: str) -> None:
        config = _config(database_url)
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        command.check(config)

    def test_an_upgrade_is_one_transaction_so_a_replica_waiting_its_turn_never_sees_half_a_schema(
        self, database_url: str
    ) -> None:
        # Replicas migrating together take turns on the upgrade's transaction. Were each revision committed on
        # its own (alembic's way on SQLite), the next replica would get its turn between two revisions, with the
        # current revision it read before waiting, and run a revision a second time.
        config = _config(database_url)
        command.downgrade(config, "base")
        commits: list[object] = []

        def count(connection: object) -> None:
            commits.append(connection)

        event.listen(Engine, "commit", count)
        try:
            command.upgrade(config, "head")
        finally:
            event.remove(Engine, "commit", count)
        assert len(commits) == 1
        command.check(config)

    def test_every_revision_goes_down_and_up_one_step_at_a_time(self, database_url: str) -> None:
        config = _config(database_url)
        revisions = [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]
        assert len(revisions) >= 4
        for _ in revisions:
            command.downgrade(config, "-1")
        for _ in revisions:
            command.upgrade(config, "+1")
        command.check(config)


WRITE_TRIGGERS = {"decisions_insert_reasons", "audit_events_move_head"}


async def write_triggers(engine: AsyncEngine) -> set[str]:
    """Which of migration 0015's triggers the database holds."""
    query = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    async with engine.connect() as connection:
        return set((await connection.execute(text(query))).scalars()) & WRITE_TRIGGERS


class TestWriteTriggers:
    async def test_0015_adds_the_reason_and_head_triggers_and_its_downgrade_drops_them(
        self, engine: AsyncEngine, database_url: str
    ) -> None:
        config = _config(database_url)
        assert await write_triggers(engine) == WRITE_TRIGGERS
        await asyncio.to_thread(command.downgrade, config, "0014")
        try:
            assert await write_triggers(engine) == set()
        finally:
            await asyncio.to_thread(command.upgrade, config, "head")
        assert await write_triggers(engine) == WRITE_TRIGGERS


class TestReviewCasesBackfill:
    async def test_upgrading_to_0009_queues_exactly_the_unsettled_review_decisions(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        settled = await decide(client, "1000.00", "00000000", "SO-SETTLED")  # company not found: review
        waiting = await decide(client, "1000.00", "00000000", "SO-WAITING")
        await decide(client, "1250.00", "12345670", "SO-ACCEPTED")  # no case
        assert (await review(client, settled["id"], outcome="accept")).status_code == 201
        config = _config(database_url)
        await asyncio.to_thread(command.downgrade, config, "0008")
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            queued = (await connection.execute(text("SELECT decision_id FROM review_cases"))).scalars().all()
        assert queued == [waiting["id"]]
        assert [case["decision"]["id"] for case in await queue(client)] == [waiting["id"]]

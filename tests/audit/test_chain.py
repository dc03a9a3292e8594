"""Decisions append hash-chained events; the table refuses UPDATE and DELETE; appends serialise across replicas."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit.canonical import GENESIS_HASH, canonical_bytes, event_hash, rfc3339
from app.audit.models import AuditEvent
from app.audit.service import EventType, append
from app.audit.verify import verify_chain
from app.db import Database
from tests.audit.helpers import append_events
from tests.conftest import ALL_KEY, auth, count_rows, order_body


async def stored_events(engine: AsyncEngine) -> list[AuditEvent]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq))
        return [AuditEvent(**row._mapping) for row in rows]


class TestDecisionEvents:
    async def test_a_decision_appends_one_event_with_its_facts(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        decision = (await client.post("/v1/decisions", json=order_body(), headers=auth())).json()
        events = await stored_events(engine)
        # The app's start stored and activated the default policy; the decision bought a report.
        assert [event.event_type for event in events] == [
            "policy.created",
            "policy.activated",
            "report.purchased",
            "decision.created",
        ]
        assert events[2].payload["raw_hash"] == events[3].payload["report_raw_hash"]
        event = events[-1]
        assert (event.seq, event.event_type, event.subject_id) == (4, "decision.created", decision["id"])
        assert event.payload["outcome"] == decision["outcome"]
        assert event.payload["amount"] == "1250.00"
        assert event.payload["approved_credit"] == decision["approved_credit_amount"]
        assert event.payload["policy_version"] == decision["policy_version"]
        assert event.payload["reason_codes"] == [reason["code"] for reason in decision["reasons"]]
        assert len(event.payload["report_raw_hash"]) == 64
        assert event.actor.startswith("key_")

    async def test_events_link_each_hash_to_the_previous_one(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        for index in range(3):
            await client.post("/v1/decisions", json=order_body(order_id=f"SO-{index}"), headers=auth(ALL_KEY))
        events = await stored_events(engine)
        # The policy stored and activated, one report bought (then cached), three decisions.
        assert [event.seq for event in events] == [1, 2, 3, 4, 5, 6]
        assert [event.prev_hash for event in events] == [GENESIS_HASH] + [event.hash for event in events[:-1]]
        for event in events:
            recomputed = event_hash(
                seq=event.seq,
                event_type=event.event_type,
                subject_id=event.subject_id,
                payload_json=canonical_bytes(event.payload),
                occurred_at=rfc3339(event.occurred_at),
                actor=event.actor,
                prev_hash=event.prev_hash,
            )
            assert recomputed == event.hash


class TestAtomicity:
    async def test_an_event_rolls_back_with_the_transaction_it_was_appended_in(
        self, engine: AsyncEngine, database_url: str
    ) -> None:
        database = Database(database_url)

        async def failing_change() -> None:
            async with database.transaction() as session:
                await append(session, EventType.POLICY_CREATED, "P-1", {"version": "v1"}, "key_test")
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            await failing_change()
        await append_events(database, 1)
        await database.dispose()
        [event] = await stored_events(engine)
        assert (event.seq, event.prev_hash, event.event_type) == (1, GENESIS_HASH, "decision.created")


def _clear_statement(engine: AsyncEngine) -> str:
    # PostgreSQL empties a table with TRUNCATE; SQLite has none, and DELETE without WHERE is its equivalent.
    return "TRUNCATE audit_events" if engine.dialect.name == "postgresql" else "DELETE FROM audit_events"


class TestAppendOnly:
    """The guard triggers exist on both databases, so these run (and must fail the statements) on both."""

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_events SET payload = payload, actor = 'someone' WHERE seq = 1",
            "DELETE FROM audit_events WHERE seq = 1",
            "clear",
        ],
        ids=["update", "delete", "truncate"],
    )
    async def test_refuses_to_change_or_remove_events(
        self, engine: AsyncEngine, database_url: str, statement: str
    ) -> None:
        database = Database(database_url)
        await append_events(database, 2)
        await database.dispose()
        sql = _clear_statement(engine) if statement == "clear" else statement
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(sql))
        assert await count_rows(engine, "audit_events") == 2
        async with engine.connect() as connection:
            actors = (await connection.execute(text("SELECT DISTINCT actor FROM audit_events"))).scalars().all()
        assert actors == ["key_test"]


class TestConcurrentAppends:
    async def test_two_replicas_appending_at_once_keep_one_unbroken_chain(
        self, engine: AsyncEngine, database_url: str
    ) -> None:
        replicas = [Database(database_url), Database(database_url)]
        try:
            await asyncio.gather(
                *(append_events(replica, 5, prefix=f"R{n}-{i}") for n, replica in enumerate(replicas) for i in range(3))
            )
            result = await verify_chain(replicas[0], chunk_size=4)
        finally:
            for replica in replicas:
                await replica.dispose()
        assert result.intact, result.first_broken
        assert result.events_checked == result.last_seq == 30
        assert result.head is not None
        assert result.head.hash == result.last_hash

    async def test_concurrent_decisions_all_land_in_the_chain(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        responses = await asyncio.gather(
            *(client.post("/v1/decisions", json=order_body(order_id=f"SO-{i}"), headers=auth()) for i in range(12))
        )
        assert {response.status_code for response in responses} == {201}
        subjects = {event.subject_id for event in await stored_events(engine) if event.event_type == "decision.created"}
        assert subjects == {response.json()["id"] for response in responses}

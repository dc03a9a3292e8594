"""What the database writes by trigger (migration 0015): a decision's reason rows, and the audit chain's head."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.audit.canonical import Head
from app.audit.models import AuditEvent
from app.audit.repository import EVENTS_PER_STATEMENT, read_head
from app.audit.service import EventType, NewEvent, append_many
from app.audit.verify import verify_chain
from app.db import Database
from app.decisions.models import Decision, DecisionReason
from app.limits.repository import limit_held_decisions
from bench.export_bench import decision_rows
from tests.audit.helpers import append_events
from tests.conftest import auth, order_body

# Bodies whose decisions carry different reasons: accept, prepayment over the limit, high-risk prepayment,
# review above the threshold, unknown company, insolvent (see tests/test_decisions_api.py).
BODIES = [
    ("1250.00", "12345670"),
    ("9000.00", "12345676"),
    ("1250.00", "12345678"),
    ("60000.00", "12345671"),
    ("1000.00", "00000000"),
    ("1250.00", "12345679"),
]


async def reason_rows(engine: AsyncEngine) -> dict[str, list[tuple[str, datetime]]]:
    """decision id → its reason rows' (code, decided_at), codes in order."""
    found: dict[str, list[tuple[str, datetime]]] = {}
    async with engine.connect() as connection:
        query = select(DecisionReason.decision_id, DecisionReason.code, DecisionReason.decided_at).order_by(
            DecisionReason.decision_id, DecisionReason.code
        )
        for decision_id, code, decided_at in await connection.execute(query):
            found.setdefault(decision_id, []).append((code, decided_at))
    return found


async def stored_decided_at(engine: AsyncEngine) -> dict[str, datetime]:
    async with engine.connect() as connection:
        return {row.id: row.decided_at for row in await connection.execute(select(Decision.id, Decision.decided_at))}


async def raw_decided_at_differences(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    """Reason rows whose stored decided_at differs from their decision's as the database holds it (on SQLite,
    the text itself: the history's ranges compare it)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT r.decision_id, CAST(r.decided_at AS TEXT), CAST(d.decided_at AS TEXT)"
                " FROM decision_reasons r JOIN decisions d ON d.id = r.decision_id"
                " WHERE CAST(r.decided_at AS TEXT) <> CAST(d.decided_at AS TEXT)"
            )
        )
        return [tuple(row) for row in rows]


async def last_event(engine: AsyncEngine) -> Head:
    async with engine.connect() as connection:
        query = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        row = (await connection.execute(query)).one()
    return Head(row.seq, row.hash)


async def head_of(database_url: str) -> Head | None:
    database = Database(database_url)
    try:
        async with database.read() as session:
            return await read_head(session)
    finally:
        await database.dispose()


class TestReasonRows:
    async def test_a_decision_gets_exactly_its_distinct_reason_codes_with_its_decided_at(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        # Sent together, so that several decisions share one transaction and one insert.
        responses = await asyncio.gather(
            *(
                client.post(
                    "/v1/decisions",
                    json=order_body(amount, number, order_id=f"SO-{index}", customer_id=f"C-{index}"),
                    headers=auth(),
                )
                for index, (amount, number) in enumerate(BODIES)
            )
        )
        assert [response.status_code for response in responses] == [201] * len(BODIES)
        decisions = [response.json() for response in responses]
        decided_at = await stored_decided_at(engine)
        stored = await reason_rows(engine)
        # What the app inserted before the trigger did: the sorted distinct codes, with the decision's time.
        expected = {
            decision["id"]: [
                (code, decided_at[decision["id"]]) for code in sorted({r["code"] for r in decision["reasons"]})
            ]
            for decision in decisions
        }
        assert stored == expected
        assert len({tuple(code for code, _ in rows) for rows in stored.values()}) > 1  # the bodies differ
        assert await raw_decided_at_differences(engine) == []

    async def test_repeated_codes_give_one_row_and_no_reasons_give_none(self, engine: AsyncEngine) -> None:
        [rows] = list(decision_rows(3))
        repeated, empty, single = rows
        repeated["reasons"] = [{"code": "WITHIN_LIMIT"}, {"code": "FIRST_ORDER_CAP"}, {"code": "WITHIN_LIMIT"}]
        empty["reasons"] = []
        single["reasons"] = [{"code": "INSOLVENT", "message": "…", "rule": None, "facts": {}}]
        async with engine.begin() as connection:
            await connection.execute(insert(Decision), rows)
        stored = await reason_rows(engine)
        assert stored == {
            repeated["id"]: [("FIRST_ORDER_CAP", repeated["decided_at"]), ("WITHIN_LIMIT", repeated["decided_at"])],
            single["id"]: [("INSOLVENT", single["decided_at"])],
        }
        assert await raw_decided_at_differences(engine) == []

    async def test_ranges_on_the_reason_rows_decided_at_find_the_decision_exactly(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        # Over the available credit: EXCEEDS_AVAILABLE_CREDIT, which the limit views read by decided_at range
        # on decision_reasons itself (on SQLite a comparison of the stored text).
        body = order_body("9000.00", "12345676")
        decision = (await client.post("/v1/decisions", json=body, headers=auth())).json()
        assert "EXCEEDS_AVAILABLE_CREDIT" in [reason["code"] for reason in decision["reasons"]]
        decided_at = (await stored_decided_at(engine))[decision["id"]]
        tick = timedelta(microseconds=1)
        database = Database(database_url)
        try:
            async with database.read() as session:
                within = await limit_held_decisions(session, decided_at, decided_at + tick)
                before = await limit_held_decisions(session, decided_at - tick, decided_at)
                after = await limit_held_decisions(session, decided_at + tick, decided_at + 2 * tick)
        finally:
            await database.dispose()
        assert [row.id for row in within] == [decision["id"]]
        assert (before, after) == ([], [])


class TestChainHead:
    async def test_the_head_is_the_last_event_after_a_batch_append(
        self, engine: AsyncEngine, database_url: str
    ) -> None:
        database = Database(database_url)
        await append_events(database, 2)
        async with database.transaction() as session:
            appended = await append_many(
                session,
                [NewEvent(EventType.NOTE_ADDED, f"N-{index}", {"index": index}, "key_test") for index in range(5)],
            )
        await database.dispose()
        assert [event.seq for event in appended] == [3, 4, 5, 6, 7]
        last = await last_event(engine)
        assert last == Head(appended[-1].seq, appended[-1].hash)
        assert await head_of(database_url) == last

    async def test_a_long_append_goes_in_multi_row_statements_and_the_head_is_its_last_event(
        self, engine: AsyncEngine, database_url: str
    ) -> None:
        count = 2 * EVENTS_PER_STATEMENT + 7  # two full statements and a short one
        database = Database(database_url)
        try:
            await append_events(database, 1)
            async with database.transaction() as session:
                appended = await append_many(
                    session,
                    [NewEvent(EventType.NOTE_ADDED, f"N-{i}", {"index": i}, "key_test") for i in range(count)],
                )
            result = await verify_chain(database)
        finally:
            await database.dispose()
        assert [event.seq for event in appended] == list(range(2, count + 2))
        last = await last_event(engine)
        assert last == Head(appended[-1].seq, appended[-1].hash)
        assert await head_of(database_url) == last
        assert (result.intact, result.events_checked) == (True, count + 1)

    async def test_the_head_is_the_last_event_after_decisions_and_the_chain_verifies(
        self, client: httpx.AsyncClient, engine: AsyncEngine, database_url: str
    ) -> None:
        responses = await asyncio.gather(
            *(
                client.post("/v1/decisions", json=order_body(order_id=f"SO-{i}", customer_id=f"C-{i}"), headers=auth())
                for i in range(4)
            )
        )
        assert {response.status_code for response in responses} == {201}
        last = await last_event(engine)
        assert last.seq >= 6  # the policy stored and activated, reports bought, four decisions
        assert await head_of(database_url) == last
        database = Database(database_url)
        try:
            result = await verify_chain(database)
        finally:
            await database.dispose()
        assert (result.intact, result.events_checked, result.first_broken) == (True, last.seq, None)

    async def test_an_insert_below_the_head_never_moves_it_back(self, engine: AsyncEngine, database_url: str) -> None:
        database = Database(database_url)
        await append_events(database, 2)
        await database.dispose()

        def event(seq: int) -> dict[str, Any]:
            return {
                "seq": seq,
                "event_type": "note.added",
                "subject_id": f"N-{seq}",
                "payload": {},
                "occurred_at": datetime.fromisoformat("2026-12-07T10:00:00+00:00"),
                "actor": "key_test",
                "prev_hash": "0" * 64,
                "hash": f"{seq:064d}",
            }

        async with engine.begin() as connection:
            await connection.execute(insert(AuditEvent), [event(10)])
            await connection.execute(insert(AuditEvent), [event(5)])
        assert await head_of(database_url) == Head(10, f"{10:064d}")

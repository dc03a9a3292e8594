"""Verification walks a copy of the log and names the first broken event: altered, deleted, reordered, cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.audit.canonical import Head, canonical_bytes, event_hash, rfc3339
from app.audit.models import AuditChainHead, AuditEvent
from app.audit.verify import verify_chain
from app.cli import cli
from app.db import Database, create_engine
from app.settings import get_settings
from tests.audit.helpers import append_events, copy_log
from tests.conftest import auth, key_for, order_body, truncate_all

EVENTS = 6


@pytest.fixture
async def log_copy(database_url: str, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """Six chained events appended to the real log, then copied to a SQLite file that has no guards."""
    database = Database(database_url)
    await append_events(database, EVENTS)
    await database.dispose()
    copy = create_engine(await copy_log(engine, tmp_path / "audit-copy.db"))
    yield copy
    await copy.dispose()


async def verify_copy(copy: AsyncEngine, anchor: Head | None = None) -> tuple[bool, int | None, str | None]:
    database = Database(copy.url.render_as_string(hide_password=False))
    try:
        # Chunks of two: a break is found across chunk boundaries as well as within one.
        result = await verify_chain(database, chunk_size=2, anchor=anchor)
    finally:
        await database.dispose()
    broken = result.first_broken
    return result.intact, broken.seq if broken else None, broken.problem if broken else None


async def event_row(copy: AsyncEngine, seq: int) -> dict[str, object]:
    async with copy.connect() as connection:
        row = (await connection.execute(select(AuditEvent.__table__).where(AuditEvent.seq == seq))).one()
    return dict(row._mapping)


async def rewrite(copy: AsyncEngine, seq: int, **values: object) -> None:
    async with copy.begin() as connection:
        await connection.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(**values))


def rehashed(row: dict[str, object], **changes: object) -> dict[str, object]:
    """What a forger who knows the rules would store: the changed fields and a hash that matches them."""
    fields = {**row, **changes}
    fields.pop("hash")
    fields["occurred_at"] = rfc3339(fields["occurred_at"])  # type: ignore[arg-type]
    fields["payload_json"] = canonical_bytes(fields.pop("payload"))
    return {**changes, "hash": event_hash(**fields)}  # type: ignore[arg-type]


class TestIntactLog:
    async def test_an_untouched_copy_verifies(self, log_copy: AsyncEngine) -> None:
        assert await verify_copy(log_copy) == (True, None, None)

    async def test_an_empty_log_verifies(self, database_url: str, engine: AsyncEngine) -> None:
        database = Database(database_url)
        result = await verify_chain(database)
        await database.dispose()
        assert (result.intact, result.events_checked, result.last_seq) == (True, 0, 0)


class TestTamperedLog:
    async def test_names_an_event_whose_payload_was_altered(self, log_copy: AsyncEngine) -> None:
        row = await event_row(log_copy, 3)
        await rewrite(log_copy, 3, payload={**row["payload"], "amount": "1.00"})  # type: ignore[dict-item]
        assert await verify_copy(log_copy) == (False, 3, "altered")

    async def test_names_the_gap_a_deleted_event_leaves(self, log_copy: AsyncEngine) -> None:
        async with log_copy.begin() as connection:
            await connection.execute(delete(AuditEvent).where(AuditEvent.seq == 4))
        assert await verify_copy(log_copy) == (False, 4, "missing")

    async def test_names_the_first_of_two_swapped_events(self, log_copy: AsyncEngine) -> None:
        second, third = await event_row(log_copy, 2), await event_row(log_copy, 3)
        swapped = ("event_type", "subject_id", "payload", "occurred_at", "actor", "prev_hash", "hash")
        await rewrite(log_copy, 2, **{name: third[name] for name in swapped})
        await rewrite(log_copy, 3, **{name: second[name] for name in swapped})
        assert await verify_copy(log_copy) == (False, 2, "altered")

    async def test_names_the_event_after_one_forged_with_a_matching_hash(self, log_copy: AsyncEngine) -> None:
        row = await event_row(log_copy, 2)
        await rewrite(log_copy, 2, **rehashed(row, payload={"index": 1, "amount": "0.01", "codes": []}))
        assert await verify_copy(log_copy) == (False, 3, "unlinked")

    async def test_names_the_cut_when_the_last_event_is_gone(self, log_copy: AsyncEngine) -> None:
        async with log_copy.begin() as connection:
            await connection.execute(delete(AuditEvent).where(AuditEvent.seq == EVENTS))
        assert await verify_copy(log_copy) == (False, EVENTS, "missing")

    async def test_an_anchor_catches_a_chain_rewritten_from_the_start(self, log_copy: AsyncEngine) -> None:
        anchor_row = await event_row(log_copy, 4)
        anchor = Head(4, str(anchor_row["hash"]))
        # The forger rewrites event 1 and re-links every later event and the head: the chain itself holds.
        previous = None
        for seq in range(1, EVENTS + 1):
            row = await event_row(log_copy, seq)
            changes: dict[str, object] = {"actor": "forger"} if seq == 1 else {}
            if previous is not None:
                changes["prev_hash"] = previous
            values = rehashed(row, **changes)
            await rewrite(log_copy, seq, **values)
            previous = values["hash"]
        async with log_copy.begin() as connection:
            await connection.execute(update(AuditChainHead).values(hash=previous))
        assert await verify_copy(log_copy) == (True, None, None)
        assert await verify_copy(log_copy, anchor) == (False, 4, "anchor_mismatch")


class TestVerifyEndpoint:
    async def test_reports_an_intact_chain_to_an_admin(self, client: httpx.AsyncClient) -> None:
        created = [
            await client.post("/v1/decisions", json=order_body(order_id=f"SO-{i}"), headers=auth()) for i in range(3)
        ]
        assert {response.status_code for response in created} == {201}
        response = await client.get("/v1/audit/verify", headers=auth(key_for("admin")))
        assert response.status_code == 200
        body = response.json()
        # The start stored and activated the default policy; one report bought; three decisions.
        assert (body["intact"], body["events_checked"], body["first_broken"]) == (True, 6, None)
        assert body["head"] == {"seq": 6, "hash": body["last_hash"]}
        anchored = await client.get(
            "/v1/audit/verify", params={"anchor_seq": 2, "anchor_hash": "0" * 64}, headers=auth(key_for("admin"))
        )
        assert anchored.json()["first_broken"]["problem"] == "anchor_mismatch"

    async def test_needs_the_admin_scope(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/audit/verify", headers=auth(key_for("read")))
        assert response.status_code == 403

    async def test_an_anchor_needs_both_seq_and_hash(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/audit/verify", params={"anchor_seq": 2}, headers=auth(key_for("admin")))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.anchor_hash"


class TestVerifyCommand:
    def test_exits_zero_on_an_intact_log_and_one_naming_the_broken_event(
        self, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Three events appended to the real (migrated) log, whose triggers move the head, then copied.
        async def build() -> str:
            engine = create_engine(database_url)
            await truncate_all(engine)
            database = Database(database_url)
            await append_events(database, 3)
            await database.dispose()
            copied = await copy_log(engine, tmp_path / "cli.db")
            await engine.dispose()
            return copied

        async def tamper(url: str) -> None:
            engine = create_engine(url)
            async with engine.begin() as connection:
                await connection.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="someone"))
            await engine.dispose()

        url = asyncio.run(build())
        monkeypatch.setenv("CREDITGATE_DATABASE_URL", url)
        get_settings.cache_clear()
        runner = CliRunner()
        try:
            intact = runner.invoke(cli, ["audit", "verify", "--chunk-size", "2"])
            asyncio.run(tamper(url))
            broken = runner.invoke(cli, ["audit", "verify"])
        finally:
            get_settings.cache_clear()
        assert intact.exit_code == 0, intact.output
        assert "intact: 3 events verified" in intact.output
        assert broken.exit_code == 1
        assert "BROKEN at seq 2: altered" in broken.output

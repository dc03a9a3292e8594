"""Policy changes, customer credit changes and report purchases land in the audit chain with the change."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import DEFAULT_POLICY_FILE
from tests.conftest import auth, key_for


async def events(engine: AsyncEngine, event_type: str) -> list[tuple[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT subject_id, actor FROM audit_events WHERE event_type = :type ORDER BY seq"),
            {"type": event_type},
        )
        return [tuple(row) for row in rows]


class TestCustomerCreditChanges:
    async def test_a_block_and_a_manual_limit_are_audited_once(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        plain = {"country": "NL", "name": "Bakkerij Jansen B.V."}
        assert (await client.put("/v1/customers/C-1", json=plain, headers=auth())).status_code == 201
        assert await events(engine, "customer.credit_changed") != []  # a new customer's terms are recorded
        baseline = len(await events(engine, "customer.credit_changed"))

        blocked = {**plain, "credit_block": {"reason": "disputed invoices"}}
        assert (await client.put("/v1/customers/C-1", json=blocked, headers=auth())).status_code == 200
        assert (await client.put("/v1/customers/C-1", json=blocked, headers=auth())).status_code == 200
        limited = {
            **blocked,
            "limit_currency": "EUR",
            "manual_limit": {"amount": "2500.00", "reason": "bank guarantee"},
        }
        assert (await client.put("/v1/customers/C-1", json=limited, headers=auth())).status_code == 200
        changes = await events(engine, "customer.credit_changed")
        assert len(changes) == baseline + 2  # the repeated PUT changed nothing and appended nothing
        assert {subject for subject, _ in changes} == {"C-1"}

    async def test_a_name_change_is_not_a_credit_change(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await client.put("/v1/customers/C-2", json={"country": "NL", "name": "Old"}, headers=auth())
        before = len(await events(engine, "customer.credit_changed"))
        await client.put("/v1/customers/C-2", json={"country": "NL", "name": "New"}, headers=auth())
        assert len(await events(engine, "customer.credit_changed")) == before


class TestPolicyChanges:
    async def test_storing_and_activating_a_version_are_audited(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        document = DEFAULT_POLICY_FILE.read_text().replace("version: default-2026.11", "version: audited-2")
        admin = {**auth(key_for("admin")), "Content-Type": "application/yaml"}
        assert (await client.post("/v1/policies", content=document.encode(), headers=admin)).status_code == 201
        activated = await client.post("/v1/policies/audited-2/activate", headers=auth(key_for("admin")))
        assert activated.status_code == 200
        subject, actor = (await events(engine, "policy.created"))[-1]
        assert subject == "audited-2"
        assert actor.startswith("key_")
        assert (await events(engine, "policy.activated"))[-1][0] == "audited-2"
        verified = (await client.get("/v1/audit/verify", headers=auth(key_for("admin")))).json()
        assert verified["intact"] is True

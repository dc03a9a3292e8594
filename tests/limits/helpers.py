"""What the limit-request tests share: asking, reviewing, reading stored events."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ALL_KEY, auth, key_for

SALES = key_for("sales")
REVIEWER = key_for("review")
SECOND_REVIEWER = ALL_KEY  # every scope, review among them: another key than REVIEWER


async def ask(client: httpx.AsyncClient, key: str = SALES, **fields: Any) -> httpx.Response:
    body: dict[str, Any] = {"customer_id": "C-42", "amount": "5000.00", "reason": "Orders grow every month."}
    body.update(fields)
    return await client.post("/v1/limit-requests", json=body, headers=auth(key))


async def asked(client: httpx.AsyncClient, key: str = SALES, **fields: Any) -> dict[str, Any]:
    response = await ask(client, key, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def review(
    client: httpx.AsyncClient,
    request_id: str,
    key: str = REVIEWER,
    outcome: str = "approve",
    reason: str = "Pays well.",
) -> httpx.Response:
    body = {"outcome": outcome, "reason": reason}
    return await client.post(f"/v1/limit-requests/{request_id}/review", json=body, headers=auth(key))


async def webhook_events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM webhook_events WHERE event_type = :kind ORDER BY created_at"), {"kind": kind}
        )
        return [(p if isinstance(p, dict) else json.loads(p))["data"] for (p,) in rows]


async def audit_events(engine: AsyncEngine, kind: str) -> list[tuple[str, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT actor, payload FROM audit_events WHERE event_type = :kind ORDER BY seq"), {"kind": kind}
        )
        return [(actor, p if isinstance(p, dict) else json.loads(p)) for actor, p in rows]


async def chain_intact(client: httpx.AsyncClient) -> bool:
    verified = (await client.get("/v1/audit/verify", headers=auth(key_for("admin")))).json()
    return bool(verified["intact"])


async def activate_limits_policy(client: httpx.AsyncClient, version: str, **limits: Any) -> httpx.Response:
    """The active policy with its `limits` section changed, stored and activated; the store's answer."""
    document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
    document["version"] = version
    document["limits"] = {**document["limits"], **limits}
    response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    if response.status_code == 201:
        activated = await client.post(f"/v1/policies/{version}/activate", headers=auth(key_for("admin")))
        assert activated.status_code == 200, activated.text
    return response

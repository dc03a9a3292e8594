"""A policy whose amounts its currency cannot hold is refused when stored, and shown before it is activated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import utcnow
from app.policy.schema import parse_policy
from app.policy_versions.models import PolicyVersion
from app.policy_versions.service import digest
from tests.conftest import auth, count_rows, key_for, order_body
from tests.test_policies_api import active_document

ADMIN = auth(key_for("admin"))


def with_amount(document: dict[str, Any], path: str, amount: str, version: str) -> dict[str, Any]:
    document = {**document, "version": version}
    *parents, name = path.split(".")
    target = document
    for part in parents:
        target[part] = dict(target[part])
        target = target[part]
    target[name] = amount
    return document


AMOUNTS = [
    ("grid.A.regular.cap", "100000.005"),
    ("small_orders.threshold", "250.001"),
    ("stop.overdue_amount_tolerance", "1000000000000"),
    ("new_customers.first_order_cap", "25000.0001"),
]


class TestStoring:
    @pytest.mark.parametrize(("path", "amount"), AMOUNTS)
    async def test_refused_naming_the_amount(
        self, client: httpx.AsyncClient, engine: AsyncEngine, path: str, amount: str
    ) -> None:
        document = with_amount(await active_document(client), path, amount, "too-precise")
        before = await count_rows(engine, "policy_versions")
        response = await client.post("/v1/policies", json=document, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert path in [error["field"] for error in response.json()["errors"]]
        assert await count_rows(engine, "policy_versions") == before

    async def test_yaml_names_the_line(self, client: httpx.AsyncClient) -> None:
        document = await active_document(client)
        document = with_amount({**document, "currency": "JPY"}, "small_orders.threshold", "250.50", "yen-1")
        body = yaml.safe_dump(document, sort_keys=False)
        headers = {**ADMIN, "Content-Type": "application/yaml"}
        response = await client.post("/v1/policies", content=body, headers=headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "small_orders.threshold"
        line = next(n for n, text in enumerate(body.splitlines(), 1) if "250.50" in text)
        assert error["message"] == f"line {line}: more decimals than JPY has (0)"


class TestStoredBeforeTheCheck:
    """A version stored while the check did not exist: simulate shows why it cannot decide; activating it is 409."""

    @pytest.fixture
    async def stored(self, client: httpx.AsyncClient, engine: AsyncEngine) -> str:
        document = with_amount(await active_document(client), "grid.A.regular.cap", "100000.005", "legacy-1")
        parsed = parse_policy(document, stored=True)
        async with engine.begin() as connection:
            await connection.execute(
                insert(PolicyVersion).values(
                    version="legacy-1",
                    description="",
                    currency="EUR",
                    document=parsed.model_dump(mode="json"),
                    digest=digest(parsed),
                    created_at=utcnow(),
                    created_by="test",
                )
            )
        return "legacy-1"

    async def test_simulate_names_the_amount(self, client: httpx.AsyncClient, stored: str) -> None:
        await client.post("/v1/decisions", json=order_body(), headers=auth())
        response = await client.post(f"/v1/policies/{stored}/simulate", json={}, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "grid.A.regular.cap"

    async def test_activation_is_refused(self, client: httpx.AsyncClient, stored: str) -> None:
        response = await client.post(f"/v1/policies/{stored}/activate", headers=ADMIN)
        assert response.status_code == 409, response.text
        assert response.json()["errors"][0]["field"] == "grid.A.regular.cap"
        active = (await client.get("/v1/policies/active", headers=ADMIN)).json()
        assert active["version"] != stored
        assert (await client.get(f"/v1/policies/{stored}", headers=ADMIN)).status_code == 200

"""A rule that relates two fields of a body names the field at fault; a request the deployment cannot serve is
refused as such. Either way nothing is stored."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for, table_counts
from tests.erp import put_customer

COVER = {
    "insurer": "Atradius",
    "buyer_reference": "B-1",
    "currency": "EUR",
    "amount": "20000.00",
    "valid_from": "2026-12-01",
}


async def _refused(
    client: httpx.AsyncClient, engine: AsyncEngine, method: str, path: str, body: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    before = await table_counts(engine)
    response = await client.request(method, path, json=body, headers=auth(key))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await table_counts(engine) == before
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


class TestWithoutAnInsurer:
    async def test_an_insurer_request_is_a_conflict_not_an_outage(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        """No insurer adapter configured is the deployment's state, not a passing failure: 409, nothing kept."""
        await put_customer(client, "C-42")
        before = await table_counts(engine)
        body = {"kind": "new", "amount": "1000.00", "currency": "EUR"}
        response = await client.post("/v1/customers/C-42/insurer-requests", json=body, headers=auth(key_for("admin")))
        assert (response.status_code, response.json()["code"]) == (409, "insurer_not_configured")
        assert await table_counts(engine) == before


class TestCrossFieldErrorsNameTheField:
    async def test_a_cover_ending_before_it_starts(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client, "C-42")
        body = {**COVER, "valid_to": "2026-11-30"}
        errors = await _refused(client, engine, "PUT", "/v1/customers/C-42/cover", body, key_for("admin"))
        assert [(e["field"], e["message"]) for e in errors] == [("valid_to", "is before valid_from")]

    async def test_an_insurer_request_without_its_amount(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client, "C-42")
        body = {"kind": "new", "currency": "EUR"}
        errors = await _refused(client, engine, "POST", "/v1/customers/C-42/insurer-requests", body, key_for("admin"))
        assert [e["field"] for e in errors] == ["amount"]

    async def test_a_temporary_uplift_ending_before_it_starts(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-42")
        body = {
            "customer_id": "C-42",
            "kind": "temporary",
            "amount": "1000.00",
            "starts_at": "2027-01-10T00:00:00Z",
            "ends_at": "2027-01-05T00:00:00Z",
            "reason": "Christmas season",
        }
        errors = await _refused(client, engine, "POST", "/v1/limit-requests", body, key_for("sales"))
        assert [(e["field"], e["message"]) for e in errors] == [("ends_at", "must be after starts_at")]

"""Idempotency-Key on writes: replay byte for byte, 422 for another body, 409 while in flight."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.idempotency.models import IdempotencyRecord
from app.main import create_app
from app.settings import Settings, key_id
from tests.conftest import ALL_KEY, auth, count_rows, key_for, order_body
from tests.erp import manual_limit, put_customer


def keyed(key: str, api_key: str | None = None) -> dict[str, str]:
    return {**(auth(api_key) if api_key else auth()), "Idempotency-Key": key}


class TestReplay:
    async def test_the_same_key_and_body_replays_the_stored_response_byte_for_byte(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        first = await client.post("/v1/decisions", json=order_body(), headers=keyed("k-1"))
        second = await client.post("/v1/decisions", json=order_body(), headers=keyed("k-1"))
        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        assert second.headers["idempotent-replayed"] == "true"
        assert await count_rows(engine, "decisions") == 1

    async def test_key_order_and_spacing_of_the_body_do_not_matter(self, client: httpx.AsyncClient) -> None:
        body = order_body()
        first = await client.post("/v1/decisions", json=body, headers=keyed("k-1"))
        reordered = json.dumps({"customer": body["customer"], "order": body["order"]}, indent=2)
        headers = {**keyed("k-1"), "content-type": "application/json"}
        second = await client.post("/v1/decisions", content=reordered, headers=headers)
        assert second.content == first.content

    async def test_the_same_key_with_another_body_is_422(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await client.post("/v1/decisions", json=order_body("100.00"), headers=keyed("k-1"))
        other = await client.post("/v1/decisions", json=order_body("200.00"), headers=keyed("k-1"))
        assert other.status_code == 422
        assert other.headers["content-type"] == "application/problem+json"
        assert other.json()["code"] == "idempotency_key_reused"
        assert await count_rows(engine, "decisions") == 1

    async def test_keys_are_scoped_to_the_api_key(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await client.post("/v1/decisions", json=order_body(), headers=keyed("k-1"))
        other = await client.post("/v1/decisions", json=order_body(), headers=keyed("k-1", key_for("decide")))
        assert other.status_code == 201
        assert "idempotent-replayed" not in other.headers
        assert await count_rows(engine, "decisions") == 2

    async def test_a_failed_write_releases_its_key(self, client: httpx.AsyncClient) -> None:
        body = {"currency": "EUR", "amount": "1.00", "open_amount": "1.00", "issue_date": "2026-11-01",
                "due_date": "2026-12-01"}  # fmt: skip
        missing = await client.put("/v1/customers/C-42/invoices/INV-1", json=body, headers=keyed("k-9"))
        assert missing.status_code == 404
        await put_customer(client)
        retried = await client.put("/v1/customers/C-42/invoices/INV-1", json=body, headers=keyed("k-9"))
        assert retried.status_code == 201

    async def test_an_erp_payment_retried_with_its_key_is_not_recorded_twice(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        invoice = {"currency": "EUR", "amount": "500.00", "open_amount": "500.00", "issue_date": "2026-11-01",
                   "due_date": "2026-12-01"}  # fmt: skip
        await client.put("/v1/customers/C-42/invoices/INV-1", json=invoice, headers=auth())
        payment = {"id": "PAY-1", "amount": "100.00", "paid_on": "2026-11-20"}
        path = "/v1/customers/C-42/invoices/INV-1/payments"
        first = await client.post(path, json=payment, headers=keyed("pay-1"))
        again = await client.post(path, json=payment, headers=keyed("pay-1"))
        assert again.status_code == 201
        assert again.content == first.content
        assert again.json()["invoice"]["open_amount"] == "400.00"

    async def test_an_invalid_key_is_named(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/decisions", json=order_body(), headers=keyed("x" * 300))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"


class TestConcurrentDuplicates:
    async def test_fifty_concurrent_requests_with_one_key_make_one_decision(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("5000.00"))
        body = order_body("1000.00", order_id="SO-ONCE")
        responses = await asyncio.gather(
            *(client.post("/v1/decisions", json=body, headers=keyed("k-once")) for _ in range(50))
        )
        statuses = {response.status_code for response in responses}
        assert statuses <= {201, 409}
        created = [response.content for response in responses if response.status_code == 201]
        assert created
        assert len(set(created)) == 1
        conflicts = [response.json() for response in responses if response.status_code == 409]
        assert all(problem["code"] == "idempotency_request_in_flight" for problem in conflicts)
        assert await count_rows(engine, "decisions") == 1
        assert await count_rows(engine, "reservations") == 1
        replay = await client.post("/v1/decisions", json=body, headers=keyed("k-once"))
        assert replay.content == created[0]

    async def test_a_duplicate_while_the_first_is_in_flight_is_409(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        # The provider answers slowly, so the first request is still in flight when the second arrives.
        slow = settings.model_copy(update={"simulated_latency_ms": 1500})
        app = create_app(slow)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
                first = asyncio.create_task(http.post("/v1/decisions", json=order_body(), headers=keyed("k-slow")))
                await _until_claimed(engine, "k-slow")
                second = await http.post("/v1/decisions", json=order_body(), headers=keyed("k-slow"))
                assert second.status_code == 409
                assert second.headers["retry-after"] == "1"
                assert (await first).status_code == 201


async def _until_claimed(engine: AsyncEngine, key: str) -> None:
    for _ in range(500):
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT state FROM idempotency_keys WHERE key = :k"), {"k": key})
            if found.first() is not None:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the first request never claimed its key")


class TestCrashedClaims:
    async def test_a_claim_left_by_a_crashed_process_is_taken_over_after_its_lease(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        record = {
            "api_key_id": key_id(ALL_KEY),
            "key": "k-crash",
            "fingerprint": "0" * 64,
            "state": "in_flight",
            "token": "crashed",
            "created_at": long_ago,
            "lease_until": long_ago,
            "expires_at": datetime.now(UTC) + timedelta(hours=24),
        }
        async with engine.begin() as connection:
            await connection.execute(insert(IdempotencyRecord).values(**record))
        response = await client.post("/v1/decisions", json=order_body(), headers=keyed("k-crash"))
        assert response.status_code == 201
        assert await count_rows(engine, "decisions") == 1


INVOICE = {"currency": "EUR", "amount": "10.00", "open_amount": "10.00", "issue_date": "2026-11-01",
           "due_date": "2026-12-01"}  # fmt: skip
ERP_WRITES = [
    ("PUT", "/v1/customers/C-9", {"country": "NL"}, {"country": "BE"}),
    ("PUT", "/v1/customers/C-42/invoices/INV-7", INVOICE, {**INVOICE, "open_amount": "5.00"}),
    ("POST", "/v1/receivables/batch", {"invoices": [{"customer_id": "C-42", "invoice_id": "INV-8", **INVOICE}]},
     {"invoices": [{"customer_id": "C-42", "invoice_id": "INV-9", **INVOICE}]}),
    ("PUT", "/v1/rates", {"base": "EUR", "rates": {"USD": "1.0800"}}, {"base": "EUR", "rates": {"USD": "1.0900"}}),
    ("POST", "/v1/orders/SO-1/events", {"type": "shipped"}, {"type": "cancelled"}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "other"), ERP_WRITES, ids=[case[1] for case in ERP_WRITES])
async def test_every_erp_write_replays_its_stored_response(
    client: httpx.AsyncClient, method: str, path: str, body: dict, other: dict
) -> None:
    await put_customer(client, **manual_limit("1000.00"))
    await client.post("/v1/decisions", json=order_body("100.00", order_id="SO-1"), headers=auth())
    first = await client.request(method, path, json=body, headers=keyed("erp-1"))
    assert 200 <= first.status_code < 300, first.text
    second = await client.request(method, path, json=body, headers=keyed("erp-1"))
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    reused = await client.request(method, path, json=other, headers=keyed("erp-1"))
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"

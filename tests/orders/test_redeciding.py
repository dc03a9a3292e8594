"""Deciding an order again: never for goods already shipped, never for another customer's order."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, order_body, table_counts
from tests.erp import credit_file, decide, event, manual_limit, put_customer, recomputed_exposure_minor


async def _post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/decisions", json=body, headers=auth())


async def _reserved(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order_id}/reservation", headers=auth())
    assert response.status_code == 200, response.text
    return dict(response.json())


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


class TestReDecidingAShippedOrder:
    async def test_is_refused_and_the_shipped_credit_keeps_counting(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("5000.00"))
        await decide(client, "5000.00", "SO-X")
        assert (await event(client, "SO-X", {"type": "shipped"})).status_code == 200
        counts = await table_counts(engine)

        again = await _post(client, order_body("1.00", order_id="SO-X"))

        _refused(again, "order_already_shipped")
        assert "SO-X" in again.json()["detail"]
        assert await table_counts(engine) == counts  # nothing stored: no decision, no audit event
        reservation = await _reserved(client, "SO-X")
        assert (reservation["status"], reservation["reserved_amount"]) == ("shipped", "5000.00")
        assert (await credit_file(client))["exposure"]["total"] == "5000.00"
        # The rest of the limit is not free for a new order.
        other = await decide(client, "4999.00", "SO-Y")
        assert other["exposure"] == "5000.00"
        assert other["approved_credit_amount"] == "0.00"

    async def test_an_active_order_may_still_be_decided_again(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("5000.00"))
        await decide(client, "5000.00", "SO-X")
        again = await decide(client, "1.00", "SO-X")
        assert again["approved_credit_amount"] == "1.00"
        assert (await _reserved(client, "SO-X"))["reserved_amount"] == "1.00"

    async def test_is_refused_alone_in_a_shared_transaction(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("5000.00"))
        await decide(client, "3000.00", "SO-X")
        assert (await event(client, "SO-X", {"type": "shipped"})).status_code == 200
        bodies = [order_body("1000.00", order_id=f"SO-N{index}") for index in range(4)]
        bodies.insert(2, order_body("1.00", order_id="SO-X"))

        responses = await asyncio.gather(*(_post(client, body) for body in bodies))

        assert [response.status_code for response in responses] == [201, 201, 409, 201, 201]
        _refused(responses[2], "order_already_shipped")
        assert (await _reserved(client, "SO-X"))["reserved_amount"] == "3000.00"
        granted = sum(Decimal(r.json()["approved_credit_amount"]) for r in responses if r.status_code == 201)
        assert granted == Decimal("2000.00")  # what the shipped order left of the limit, and no more
        assert await recomputed_exposure_minor(engine) == 500_000


class TestAnOrderOfAnotherCustomer:
    async def test_is_refused_and_the_owners_reservation_stays(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        for customer_id in ("C-A", "C-B"):
            await put_customer(client, customer_id, **manual_limit("5000.00"))
        await decide(client, "4000.00", "SO-A", customer_id="C-A")
        counts = await table_counts(engine)

        taken = await _post(client, order_body("10.00", order_id="SO-A", customer_id="C-B"))

        _refused(taken, "order_of_another_customer")
        assert await table_counts(engine) == counts
        reservation = await _reserved(client, "SO-A")
        assert (reservation["customer_id"], reservation["reserved_amount"]) == ("C-A", "4000.00")
        assert (await credit_file(client, "C-A"))["exposure"]["total"] == "4000.00"
        assert await recomputed_exposure_minor(engine, "C-B") == 0

    async def test_an_order_decided_without_credit_still_has_its_customer(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-A", credit_block={"reason": "disputed invoices"}, **manual_limit("5000.00"))
        await put_customer(client, "C-B", **manual_limit("5000.00"))
        rejected = await decide(client, "100.00", "SO-A", customer_id="C-A")
        assert rejected["outcome"] == "reject"  # no credit, so no reservation: the decision names the customer

        _refused(
            await _post(client, order_body("100.00", order_id="SO-A", customer_id="C-B")), "order_of_another_customer"
        )

    async def test_is_refused_alone_in_a_shared_transaction(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        for customer_id in ("C-A", "C-B"):
            await put_customer(client, customer_id, **manual_limit("5000.00"))
        await decide(client, "4000.00", "SO-A", customer_id="C-A")
        bodies = [order_body("100.00", order_id=f"SO-B{index}", customer_id="C-B") for index in range(3)]
        bodies.insert(1, order_body("100.00", order_id="SO-A", customer_id="C-B"))

        responses = await asyncio.gather(*(_post(client, body) for body in bodies))

        assert [response.status_code for response in responses] == [201, 409, 201, 201]
        _refused(responses[1], "order_of_another_customer")
        assert (await _reserved(client, "SO-A"))["customer_id"] == "C-A"
        assert await recomputed_exposure_minor(engine, "C-A") == 400_000
        assert await recomputed_exposure_minor(engine, "C-B") == 30_000

    async def test_two_replicas_racing_for_a_new_order_leave_it_one_customers(
        self, client: httpx.AsyncClient, settings: Settings, engine: AsyncEngine
    ) -> None:
        for customer_id in ("C-A", "C-B"):
            await put_customer(client, customer_id, **manual_limit("5000.00"))
        replica = create_app(settings)
        async with replica.router.lifespan_context(replica):
            transport = httpx.ASGITransport(app=replica)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as other:
                for number in range(10):
                    order_id = f"SO-NEW-{number}"
                    responses = await asyncio.gather(
                        _post(client, order_body("100.00", order_id=order_id, customer_id="C-A")),
                        _post(other, order_body("100.00", order_id=order_id, customer_id="C-B")),
                    )
                    # Whichever decision committed first has the order; the other customer's is refused.
                    assert sorted(response.status_code for response in responses) == [201, 409]
                    (winner,) = [response.json() for response in responses if response.status_code == 201]
                    assert (await _reserved(client, order_id))["customer_id"] == winner["customer_id"]
        total = await recomputed_exposure_minor(engine, "C-A") + await recomputed_exposure_minor(engine, "C-B")
        assert total == 10 * 10_000

"""Reservations: approved credit is reserved per order, moved by order events, released by expiry."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.orders.models import Reservation
from tests.conftest import auth, count_rows
from tests.erp import credit_file, decide, event, manual_limit, put_customer, put_invoice, recomputed_exposure_minor


async def _exposure(client: httpx.AsyncClient) -> dict:
    return (await credit_file(client))["exposure"]


class TestReservingApprovedCredit:
    async def test_an_accepted_order_reserves_its_amount(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        decision = await decide(client, "1000.00", "SO-1")
        assert decision["outcome"] == "accept"
        exposure = await _exposure(client)
        assert exposure == {"open_receivables": "0.00", "reserved": "1000.00", "total": "1000.00"}
        second = await decide(client, "1500.00", "SO-2")
        assert second["exposure"] == "1000.00"
        assert second["available_credit"] == "2000.00"

    async def test_a_second_decision_for_the_same_order_replaces_its_reservation(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        again = await decide(client, "1200.00", "SO-1")
        assert again["exposure"] == "0.00"  # the order's own earlier reservation is not counted against it
        assert (await _exposure(client))["reserved"] == "1200.00"
        assert await count_rows(engine, "reservations") == 1

    async def test_a_decision_without_credit_releases_the_orders_reservation(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        await put_customer(client, credit_block={"reason": "disputed invoices"}, **manual_limit("3000.00"))
        rejected = await decide(client, "1000.00", "SO-1")
        assert rejected["outcome"] == "reject"
        assert (await _exposure(client))["reserved"] == "0.00"


class TestOrderEvents:
    async def test_invoiced_moves_the_amount_from_reserved_to_receivable(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        before = await _exposure(client)
        response = await event(client, "SO-1", {"type": "invoiced", "invoice_id": "INV-1"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "invoiced"
        after = await _exposure(client)
        assert after == {"open_receivables": "1000.00", "reserved": "0.00", "total": before["total"]}
        # The ERP pushing the same invoice later replaces it; it is never counted twice.
        await put_invoice(client, "INV-1", "1000.00", order_id="SO-1")
        assert (await _exposure(client))["total"] == "1000.00"
        assert await recomputed_exposure_minor(engine) == 100000

    async def test_an_invoice_pushed_with_the_order_id_ends_the_reservation(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        await put_invoice(client, "INV-9", "1000.00", order_id="SO-1")
        assert await _exposure(client) == {"open_receivables": "1000.00", "reserved": "0.00", "total": "1000.00"}
        reservation = await client.get("/v1/orders/SO-1/reservation", headers=auth())
        assert reservation.json()["status"] == "invoiced"
        assert reservation.json()["invoice_id"] == "INV-9"

    async def test_a_batch_of_invoices_with_order_ids_ends_each_reservation(self, client: httpx.AsyncClient) -> None:
        """Found by schemathesis: two such invoices in one batch were a 500 (an IN list in an executemany)."""
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        await decide(client, "500.00", "SO-2")
        rows = [
            {
                "customer_id": "C-42",
                "invoice_id": f"INV-{n}",
                "currency": "EUR",
                "amount": amount,
                "open_amount": amount,
                "issue_date": "2026-11-01",
                "due_date": "2026-12-01",
                "order_id": f"SO-{n}",
            }
            for n, amount in ((1, "1000.00"), (2, "500.00"))
        ]
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.status_code == 200, response.text
        for order_id in ("SO-1", "SO-2"):
            reservation = await client.get(f"/v1/orders/{order_id}/reservation", headers=auth())
            assert reservation.json()["status"] == "invoiced"
        assert (await _exposure(client))["reserved"] == "0.00"

    async def test_cancelled_releases_the_reservation(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        response = await event(client, "SO-1", {"type": "cancelled"})
        assert response.json()["reserved_amount"] == "0.00"
        assert (await _exposure(client))["total"] == "0.00"
        assert (await decide(client, "3000.00", "SO-2"))["outcome"] == "accept"

    async def test_shipped_keeps_the_reservation_counted(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        response = await event(client, "SO-1", {"type": "shipped"})
        assert response.json()["status"] == "shipped"
        assert (await _exposure(client))["reserved"] == "1000.00"

    async def test_amended_lowers_the_reservation_and_refuses_a_higher_amount(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        lower = await event(client, "SO-1", {"type": "amended", "amount": "600.00"})
        assert lower.json()["reserved_amount"] == "600.00"
        higher = await event(client, "SO-1", {"type": "amended", "amount": "1500.00"})
        assert higher.status_code == 409
        assert higher.json()["code"] == "amendment_needs_decision"
        assert (await _exposure(client))["reserved"] == "600.00"

    async def test_an_amount_finer_than_the_orders_currency_conflicts_with_it(self, client: httpx.AsyncClient) -> None:
        """ "600.001" is a well-formed amount (the document cannot know the order's currency): 409, naming it."""
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        response = await event(client, "SO-1", {"type": "amended", "amount": "600.001"})
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "amount"
        assert (await _exposure(client))["reserved"] == "1000.00"

    async def test_an_event_that_does_not_apply_is_a_conflict(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "1000.00", "SO-1")
        await event(client, "SO-1", {"type": "cancelled"})
        response = await event(client, "SO-1", {"type": "shipped"})
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "event_not_applicable"

    async def test_an_event_for_an_unknown_order_is_not_found(self, client: httpx.AsyncClient) -> None:
        response = await event(client, "SO-404", {"type": "shipped"})
        assert response.status_code == 404

    async def test_an_unknown_event_type_names_the_field(self, client: httpx.AsyncClient) -> None:
        response = await event(client, "SO-1", {"type": "lost"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "type"

    async def test_paying_the_invoice_frees_the_credit(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "3000.00", "SO-1")
        await event(client, "SO-1", {"type": "invoiced", "invoice_id": "INV-1"})
        assert (await decide(client, "500.00", "SO-2"))["outcome"] == "prepayment"
        paid = await client.post(
            "/v1/customers/C-42/invoices/INV-1/payments",
            json={"id": "PAY-1", "amount": "3000.00", "paid_on": "2026-11-20"},
            headers=auth(),
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["invoice"]["open_amount"] == "0.00"
        assert (await decide(client, "500.00", "SO-3"))["outcome"] == "accept"


class TestExpiry:
    async def test_an_expired_reservation_no_longer_counts(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        await decide(client, "3000.00", "SO-1")
        assert (await decide(client, "100.00", "SO-2"))["available_credit"] == "0.00"
        # Time passes: the reservation's expiry date is behind us (no background job is involved).
        past = datetime(2020, 1, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(update(Reservation).where(Reservation.order_id == "SO-1").values(expires_at=past))
        reservation = await client.get("/v1/orders/SO-1/reservation", headers=auth())
        assert reservation.json()["status"] == "expired"
        assert (await _exposure(client))["reserved"] == "0.00"
        after = await decide(client, "100.00", "SO-3")
        assert Decimal(after["available_credit"]) == Decimal("3000.00")
        assert after["outcome"] == "accept"

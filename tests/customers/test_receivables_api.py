"""Invoices, payments and the all-or-nothing receivables batch."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, count_rows
from tests.erp import credit_file, put_customer, put_invoice


def batch_row(index: int, customer_id: str = "C-42", amount: str = "10.00") -> dict:
    return {
        "customer_id": customer_id,
        "invoice_id": f"INV-{index:05d}",
        "currency": "EUR",
        "amount": amount,
        "open_amount": amount,
        "issue_date": str(date.today()),
        "due_date": str(date.today() + timedelta(days=30)),
    }


class TestInvoices:
    async def test_put_is_an_upsert(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client)
        await put_invoice(client, "INV-1", "500.00")
        updated = await put_invoice(client, "INV-1", "500.00", open_amount="200.00")
        assert updated["open_amount"] == "200.00"
        assert await count_rows(engine, "invoices") == 1
        assert (await credit_file(client))["exposure"]["open_receivables"] == "200.00"

    async def test_an_invoice_of_an_unknown_customer_is_not_found(self, client: httpx.AsyncClient) -> None:
        body = {"currency": "EUR", "amount": "1.00", "open_amount": "1.00", "issue_date": "2026-11-01",
                "due_date": "2026-12-01"}  # fmt: skip
        response = await client.put("/v1/customers/C-404/invoices/INV-1", json=body, headers=auth())
        assert response.status_code == 404

    async def test_names_the_fields_that_are_wrong(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        body = {"currency": "EUR", "amount": "100.001", "open_amount": "1.00", "issue_date": "2026-11-10",
                "due_date": "2026-11-01"}  # fmt: skip
        response = await client.put("/v1/customers/C-42/invoices/INV-1", json=body, headers=auth())
        assert response.status_code == 422
        assert {error["field"] for error in response.json()["errors"]} == {"amount", "due_date"}


class TestPayments:
    async def test_a_payment_lowers_the_open_amount(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await put_invoice(client, "INV-1", "500.00")
        body = {"id": "PAY-1", "amount": "200.00", "paid_on": str(date.today())}
        response = await client.post("/v1/customers/C-42/invoices/INV-1/payments", json=body, headers=auth())
        assert response.status_code == 201, response.text
        assert response.json()["invoice"]["open_amount"] == "300.00"
        again = await client.post("/v1/customers/C-42/invoices/INV-1/payments", json=body, headers=auth())
        assert again.status_code == 409
        assert again.json()["code"] == "payment_exists"

    async def test_refuses_a_payment_the_stored_invoice_does_not_allow_with_409(
        self, client: httpx.AsyncClient
    ) -> None:
        """Well-formed amounts, refused by the invoice as stored: above its open amount, or finer than its currency."""
        await put_customer(client)
        await put_invoice(client, "INV-1", "500.00")
        for amount in ("600.00", "1.001"):
            body = {"id": "PAY-1", "amount": amount, "paid_on": str(date.today())}
            response = await client.post("/v1/customers/C-42/invoices/INV-1/payments", json=body, headers=auth())
            assert response.status_code == 409, amount
            assert response.json()["errors"][0]["field"] == "amount"


class TestBatch:
    async def test_syncs_ten_thousand_invoices_in_one_call(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-1")
        await put_customer(client, "C-2")
        rows = [batch_row(i, "C-1" if i % 2 else "C-2") for i in range(10_000)]
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.status_code == 200, response.text[:500]
        assert response.json() == {"invoices": 10_000, "created": 10_000, "updated": 0}
        assert await count_rows(engine, "invoices") == 10_000
        assert (await credit_file(client, "C-1"))["exposure"]["open_receivables"] == "50000.00"

    async def test_one_bad_row_stores_nothing_and_is_named(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        rows = [batch_row(i) for i in range(20)]
        rows[17]["due_date"] = "2000-01-01"
        rows[3]["amount"] = 12.5
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.status_code == 422
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields == ["invoices[3].amount", "invoices[17].due_date"]
        assert await count_rows(engine, "invoices") == 0

    async def test_duplicates_are_named_per_row(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client)
        rows = [batch_row(0), batch_row(1, "C-404"), batch_row(0)]
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == ["invoices[2].invoice_id"]
        assert await count_rows(engine, "invoices") == 0

    async def test_unknown_customers_conflict_with_the_stored_ones_per_row(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        """Well formed, so not 422: what refuses the rows is which customers are stored (409, each named)."""
        await put_customer(client)
        rows = [batch_row(0), batch_row(1, "C-404"), batch_row(2, "C-405")]
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.status_code == 409
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields == ["invoices[1].customer_id", "invoices[2].customer_id"]
        assert await count_rows(engine, "invoices") == 0

    async def test_a_second_sync_updates(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        rows = [batch_row(i) for i in range(5)]
        await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        rows[0]["open_amount"] = "0.00"
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.json() == {"invoices": 5, "created": 0, "updated": 5}
        assert (await credit_file(client))["exposure"]["open_receivables"] == "40.00"

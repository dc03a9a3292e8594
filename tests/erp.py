"""What an ERP does in tests: push customers, invoices, payments and rates; and ask for decisions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body


async def put_customer(client: httpx.AsyncClient, customer_id: str = "C-42", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Bakkerij Jansen B.V.", "country": "NL", "registration_number": "12345670"}
    body.update(fields)
    response = await client.put(f"/v1/customers/{customer_id}", json=body, headers=auth())
    assert response.status_code in (200, 201), response.text
    return response.json()


async def put_invoice(
    client: httpx.AsyncClient,
    invoice_id: str,
    amount: str,
    *,
    customer_id: str = "C-42",
    open_amount: str | None = None,
    currency: str = "EUR",
    due_in_days: int = 30,
    order_id: str | None = None,
) -> dict[str, Any]:
    due = date.today() + timedelta(days=due_in_days)
    body: dict[str, Any] = {
        "currency": currency,
        "amount": amount,
        "open_amount": open_amount if open_amount is not None else amount,
        "issue_date": str(min(due, date.today()) - timedelta(days=1)),
        "due_date": str(due),
    }
    if order_id is not None:
        body["order_id"] = order_id
    response = await client.put(f"/v1/customers/{customer_id}/invoices/{invoice_id}", json=body, headers=auth())
    assert response.status_code in (200, 201), response.text
    return response.json()


async def decide(client: httpx.AsyncClient, amount: str, order_id: str, customer_id: str = "C-42") -> dict[str, Any]:
    body = order_body(amount, "12345670", order_id=order_id, customer_id=customer_id)
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    return response.json()


async def event(client: httpx.AsyncClient, order_id: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/v1/orders/{order_id}/events", json=body, headers=auth())


async def credit_file(client: httpx.AsyncClient, customer_id: str = "C-42") -> dict[str, Any]:
    response = await client.get(f"/v1/customers/{customer_id}/credit-file", headers=auth())
    assert response.status_code == 200, response.text
    return response.json()


async def recomputed_exposure_minor(engine: AsyncEngine, customer_id: str = "C-42") -> int:
    """Exposure straight from the rows: open invoices plus reservations that still count."""
    async with engine.connect() as connection:
        receivables = (
            await connection.execute(
                text("SELECT coalesce(sum(open_amount_minor), 0) FROM invoices WHERE customer_id = :c"),
                {"c": customer_id},
            )
        ).scalar_one()
        rows = (
            await connection.execute(
                text("SELECT status, amount_minor, expires_at FROM reservations WHERE customer_id = :c"),
                {"c": customer_id},
            )
        ).all()
    reserved = sum(amount for status, amount, _expires in rows if status in ("active", "shipped"))
    return int(receivables) + int(reserved)


def manual_limit(amount: str) -> dict[str, Any]:
    return {"limit_currency": "EUR", "manual_limit": {"amount": amount, "reason": "agreed with sales"}}

"""What tests of payment arrangements share: a policy that weighs them, creating one, moving its dates back."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for


def arrangements_section(**overrides: Any) -> dict[str, Any]:
    return {"grace_days": 3, "new_credit": "allow", "on_broken": "review", **overrides}


async def activate_arrangements_policy(
    client: httpx.AsyncClient, version: str = "arrangements-1", **overrides: Any
) -> None:
    document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
    document["version"] = version
    document["arrangements"] = arrangements_section(**overrides)
    response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    assert response.status_code == 201, response.text
    response = await client.post(f"/v1/policies/{version}/activate", headers=auth(key_for("admin")))
    assert response.status_code == 200, response.text


def plan(
    *instalments: tuple[int, str], invoice_ids: tuple[str, ...] = ("INV-1",), kind: str = "instalments"
) -> dict[str, Any]:
    """A body: instalments as (days from today, amount)."""
    return {
        "kind": kind,
        "invoice_ids": list(invoice_ids),
        "instalments": [
            {"due_date": str(date.today() + timedelta(days=days)), "amount": amount} for days, amount in instalments
        ],
    }


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], customer_id: str = "C-42", key: str | None = None
) -> httpx.Response:
    headers = auth(key) if key else auth()
    return await client.post(f"/v1/customers/{customer_id}/arrangements", json=body, headers=headers)


async def pay(client: httpx.AsyncClient, invoice_id: str, payment_id: str, amount: str, paid_on: date) -> None:
    body = {"id": payment_id, "amount": amount, "paid_on": str(paid_on)}
    response = await client.post(f"/v1/customers/C-42/invoices/{invoice_id}/payments", json=body, headers=auth())
    assert response.status_code == 201, response.text


async def agreed_days_ago(engine: AsyncEngine, arrangement_id: str, days: int) -> None:
    """Move an arrangement and its instalments `days` into the past, as if agreed then."""
    async with engine.begin() as connection:
        back = timedelta(days=days)
        agreed = (
            await connection.execute(
                text("SELECT agreed_on FROM payment_arrangements WHERE id = :id"), {"id": arrangement_id}
            )
        ).scalar_one()
        agreed = agreed if isinstance(agreed, date) else date.fromisoformat(agreed)
        await connection.execute(
            text("UPDATE payment_arrangements SET agreed_on = :d WHERE id = :id"),
            {"d": agreed - back, "id": arrangement_id},
        )
        rows = (
            await connection.execute(
                text("SELECT number, due_date FROM payment_arrangement_instalments WHERE arrangement_id = :id"),
                {"id": arrangement_id},
            )
        ).all()
        for number, due in rows:
            due = due if isinstance(due, date) else date.fromisoformat(due)
            await connection.execute(
                text(
                    "UPDATE payment_arrangement_instalments SET due_date = :d"
                    " WHERE arrangement_id = :id AND number = :n"
                ),
                {"d": due - back, "id": arrangement_id, "n": number},
            )

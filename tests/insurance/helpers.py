"""What a credit manager does in the insurance tests: record covers, and read them back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth

TODAY = datetime.now(UTC).date()


def cover_body(amount: str = "50000.00", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "insurer": "Atradius",
        "policy_number": "POL-1",
        "buyer_reference": "ATR-42",
        "amount": amount,
        "currency": "EUR",
        "coverage_percentage": "90",
        "valid_from": (TODAY - timedelta(days=10)).isoformat(),
    }
    body.update(fields)
    return body


async def put_cover(client: httpx.AsyncClient, customer_id: str = "C-42", **fields: Any) -> httpx.Response:
    return await client.put(f"/v1/customers/{customer_id}/cover", json=cover_body(**fields), headers=auth())


async def audit_events(engine: AsyncEngine, event_type: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM audit_events WHERE event_type = :type ORDER BY seq"), {"type": event_type}
        )
        return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


async def activate_insurance_policy(client: httpx.AsyncClient, version: str = "insured", **insurance: Any) -> None:
    """The active policy with an `insurance` section (retention 2,000.00 for regular customers) and no
    first-order cap, so that the cover alone makes the difference."""
    from tests.conftest import key_for

    active = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
    active["version"] = version
    active["new_customers"] = {"first_order_cap": None}
    active["insurance"] = {"retention": {"regular": "2000.00"}, **insurance}
    # The policy's own overdue stop out of the way: the insurance duties are what is tested.
    active["stop"] = {
        "overdue_days_tolerance": 3650,
        "overdue_amount_tolerance": "999999999.00",
        "outcome": "prepayment",
    }
    stored = await client.post("/v1/policies", json=active, headers=auth(key_for("admin")))
    assert stored.status_code == 201, stored.text
    activated = await client.post(f"/v1/policies/{version}/activate", headers=auth(key_for("admin")))
    assert activated.status_code == 200, activated.text

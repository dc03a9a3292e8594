"""The rush: many concurrent decisions for one customer whose available credit covers only some of them."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body
from tests.erp import credit_file, manual_limit, put_customer, put_invoice, recomputed_exposure_minor

CUSTOMER = "C-RUSH"
LIMIT = Decimal("5000.00")
OWED = Decimal("1000.00")
ORDER = Decimal("100.00")


async def rush(clients: list[httpx.AsyncClient], engine: AsyncEngine, orders: int = 200) -> None:
    """Fire `orders` decisions at once, spread over the clients, then check every guarantee."""
    await put_customer(clients[0], CUSTOMER, **manual_limit(str(LIMIT)))
    await put_invoice(clients[0], "INV-0", str(OWED), customer_id=CUSTOMER)
    available = LIMIT - OWED

    async def one(index: int) -> httpx.Response:
        body = order_body(str(ORDER), "12345670", order_id=f"SO-R{index}", customer_id=CUSTOMER)
        return await clients[index % len(clients)].post("/v1/decisions", json=body, headers=auth())

    responses = await asyncio.gather(*(one(index) for index in range(orders)))

    statuses = [response.status_code for response in responses]
    failures = [(r.status_code, r.text[:300]) for r in responses if r.status_code >= 500]
    assert failures == [], failures[:3]
    created = [response.json() for response in responses if response.status_code == 201]
    assert len(created) == statuses.count(201) == sum(1 for status in statuses if 200 <= status < 300)
    approved = sum((Decimal(decision["approved_credit_amount"]) for decision in created), Decimal(0))
    assert approved <= available
    # Demand (orders × 100) far exceeds what is available, so serialised decisions fill it exactly.
    assert approved == available
    # No two decisions that granted credit saw the same exposure: each saw the one before it.
    granted = sorted(Decimal(d["exposure"]) for d in created if Decimal(d["approved_credit_amount"]) > 0)
    assert len(granted) == len(set(granted))
    async with engine.connect() as connection:
        stored = (await connection.execute(text("SELECT count(*) FROM decisions"))).scalar_one()
    assert stored == len(created)
    file = await credit_file(clients[0], CUSTOMER)
    recomputed = await recomputed_exposure_minor(engine, CUSTOMER)
    assert Decimal(file["exposure"]["total"]) * 100 == recomputed
    assert Decimal(file["exposure"]["total"]) == OWED + approved

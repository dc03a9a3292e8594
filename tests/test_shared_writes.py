"""Decisions that arrive together are decided in one shared transaction, and each still sees the ones before it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.services import services_of
from app.settings import Settings
from tests.conftest import auth, order_body
from tests.erp import decide, event, manual_limit, put_customer


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    served = create_app(settings)
    async with served.router.lifespan_context(served):
        yield served


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditgate.test") as http:
        yield http


async def together(client: httpx.AsyncClient, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    return await asyncio.gather(*(client.post("/v1/decisions", json=body, headers=auth()) for body in bodies))


def transactions(app: FastAPI) -> int:
    return int(services_of(app).decisions.writes.transactions)


class TestOneOrderDecidedAgainAndAgain:
    async def test_each_decision_replaces_the_reservation_and_never_counts_its_own_order(
        self, app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        before = transactions(app)
        responses = await together(client, [order_body("1000.00", order_id="SO-AGAIN") for _ in range(12)])

        assert [response.status_code for response in responses] == [201] * 12
        # They shared transactions; had each seen the one before it as other credit, the later ones would
        # have seen 1000.00 of exposure, and more for every further repeat.
        assert transactions(app) - before < 12
        assert {response.json()["exposure"] for response in responses} == {"0.00"}
        assert {response.json()["approved_credit_amount"] for response in responses} == {"1000.00"}
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT decision_id, amount_minor FROM reservations WHERE order_id = 'SO-AGAIN'")
                )
            ).all()
            newest = (
                await connection.execute(
                    text("SELECT id FROM decisions WHERE order_id = 'SO-AGAIN' ORDER BY decided_at DESC, id LIMIT 1")
                )
            ).scalar_one()
        assert len(rows) == 1
        assert rows[0].amount_minor == 100_000
        # The reservation is the last decision's: the repeats were decided one after the other.
        assert rows[0].decision_id == newest


class TestTheSameCustomerTwiceInOneTransaction:
    async def test_the_second_order_sees_the_first_ones_reservation(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        await put_customer(client, **manual_limit("3000.00"))
        responses = await together(client, [order_body("1000.00", order_id=f"SO-T{index}") for index in range(4)])

        assert [response.status_code for response in responses] == [201] * 4
        decided = [response.json() for response in responses]
        assert sorted(Decimal(d["exposure"]) for d in decided) == [Decimal(n) for n in (0, 1000, 2000, 3000)]
        assert sum(Decimal(d["approved_credit_amount"]) for d in decided) == Decimal("3000.00")


class TestAGroupsRootAndItsMembersTogether:
    async def test_root_and_members_share_the_group_limit(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "G-ROOT", group_limit="1500.00", **manual_limit("5000.00"))
        for member in ("G-A", "G-B"):
            await put_customer(client, member, parent_id="G-ROOT", **manual_limit("5000.00"))
        customers = ["G-ROOT", "G-A", "G-B"] * 10
        bodies = [
            order_body("100.00", order_id=f"SO-G{index}", customer_id=customer)
            for index, customer in enumerate(customers)
        ]
        responses = await together(client, bodies)

        assert {response.status_code for response in responses} == {201}
        decided = [response.json() for response in responses]
        assert sum(Decimal(d["approved_credit_amount"]) for d in decided) == Decimal("1500.00")


class TestAnInvoicedOrderAmongOthers:
    async def test_it_is_refused_alone_and_the_others_land(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, **manual_limit("9000.00"))
        await decide(client, "500.00", "SO-DONE")
        assert (await event(client, "SO-DONE", {"type": "invoiced", "invoice_id": "INV-1"})).status_code == 200
        bodies = [order_body("100.00", order_id=f"SO-N{index}") for index in range(3)]
        bodies.insert(1, order_body("100.00", order_id="SO-DONE"))
        responses = await together(client, bodies)

        assert [response.status_code for response in responses] == [201, 409, 201, 201]
        assert responses[1].json()["code"] == "order_already_invoiced"
        async with engine.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM decisions"))).scalar_one()
            events = (
                await connection.execute(
                    text("SELECT count(*) FROM audit_events WHERE event_type = 'decision.created'")
                )
            ).scalar_one()
        assert count == events == 4  # the first SO-DONE and the three new orders

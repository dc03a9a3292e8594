"""Whom an order belongs to, as a decision reads it: its reservation's customer, else that of its latest decision."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from uuid import uuid4

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Database, table_of, utcnow
from app.decisions.models import Decision
from app.decisions.repository import ORDER_CUSTOMER_KIND, ORDER_CUSTOMER_ROWS, order_customers
from app.orders.repository import RESERVATION_KIND, lock_reservation_states_with
from app.settings import Settings
from tests.conftest import auth, order_body

DECISIONS = table_of(Decision)


def row(order_id: str, customer_id: str, minutes: int, kind: str = ORDER_CUSTOMER_KIND) -> SimpleNamespace:
    return SimpleNamespace(
        kind=kind, order_id=order_id, customer_id=customer_id, at=utcnow() + timedelta(minutes=minutes)
    )


class TestOrderCustomers:
    def test_the_latest_decision_of_an_order_names_its_customer_in_any_row_order(self) -> None:
        rows = [row("SO-1", "C-1", 0), row("SO-1", "C-2", 5), row("SO-2", "C-3", 1)]
        assert order_customers(rows) == {"SO-1": "C-2", "SO-2": "C-3"}
        assert order_customers(list(reversed(rows))) == {"SO-1": "C-2", "SO-2": "C-3"}

    def test_rows_of_another_kind_are_not_decisions(self) -> None:
        assert order_customers([row("SO-1", "C-9", 9, kind=RESERVATION_KIND)]) == {}


async def copy_decision(engine: AsyncEngine, order_id: str, source: str, customer_id: str, later: timedelta) -> None:
    """A second decision of the order for another customer, as stored before such orders were refused."""
    async with engine.begin() as connection:
        stored = dict(
            (
                await connection.execute(
                    select(DECISIONS).where(DECISIONS.c.order_id == order_id, DECISIONS.c.customer_id == source)
                )
            )
            .one()
            ._mapping
        )
        stored.update(id=str(uuid4()), customer_id=customer_id, decided_at=stored["decided_at"] + later)
        await connection.execute(DECISIONS.insert(), stored)


class TestReadWithTheReservations:
    async def test_one_statement_answers_the_reservations_and_each_orders_latest_customer(
        self, client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
    ) -> None:
        accepted = await client.post("/v1/decisions", json=order_body(order_id="SO-R"), headers=auth())
        reviewed = await client.post(
            "/v1/decisions", json=order_body("1000.00", "00000000", order_id="SO-D", customer_id="C-7"), headers=auth()
        )
        assert accepted.json()["outcome"] == "accept"
        assert reviewed.json()["outcome"] == "review"  # no credit granted: no reservation
        await copy_decision(engine, "SO-D", "C-7", "C-8", timedelta(minutes=1))
        await copy_decision(engine, "SO-D", "C-7", "C-6", timedelta(minutes=-1))
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                states, decided = await lock_reservation_states_with(
                    session, ["SO-R", "SO-D", "SO-NONE"], ORDER_CUSTOMER_ROWS
                )
        finally:
            await database.dispose()
        assert set(states) == {"SO-R"}
        assert states["SO-R"].customer_id == "C-42"
        assert states["SO-R"].amount_minor == 125_000
        assert order_customers(decided) == {"SO-R": "C-42", "SO-D": "C-8"}

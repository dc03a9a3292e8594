"""Temporary uplifts: on top of the standing limit while the decision's time is inside their period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.customers.models import Customer
from app.decisions.inputs import customer_facts
from tests.conftest import auth
from tests.erp import decide, manual_limit, put_customer
from tests.limits.helpers import asked, review, webhook_events

START = datetime(2026, 1, 1, tzinfo=UTC)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _codes(decision: dict[str, object]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]  # type: ignore[attr-defined, index]


async def _uplifted(client: httpx.AsyncClient, **fields: str) -> dict[str, object]:
    await put_customer(client, **manual_limit("1000.00"))
    ends = _z(datetime.now(UTC) + timedelta(days=14))
    request = await asked(client, kind="temporary", amount="2000.00", ends_at=ends, **fields)
    response = await review(client, request["id"])
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestTemporaryUplift:
    async def test_an_uplift_adds_to_the_standing_limit_while_it_runs(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        approved = await _uplifted(client)
        assert approved["status"] == "approved"
        decision = await decide(client, "2500.00", "SO-1")
        assert decision["outcome"] == "accept"
        assert decision["credit_limit"] == "3000.00"
        assert "TEMPORARY_UPLIFT" in _codes(decision)
        changed = await webhook_events(engine, "customer.limit_changed")
        assert (changed[-1]["limit"], changed[-1]["new_limit"]) == ("temporary_uplift", "2000.00")
        customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["manual_limit"]["amount"] == "1000.00"

    async def test_an_uplift_ends_by_itself(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await _uplifted(client)
        # Time passes: the stored end is now behind us, and nothing but the decision reads it.
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE customers SET uplift_starts_at = :start, uplift_ends_at = :end"),
                {"start": datetime.now(UTC) - timedelta(days=20), "end": datetime.now(UTC) - timedelta(seconds=1)},
            )
        decision = await decide(client, "2500.00", "SO-1")
        assert decision["outcome"] == "prepayment"
        assert decision["credit_limit"] == "1000.00"
        assert "TEMPORARY_UPLIFT" not in _codes(decision)

    async def test_an_uplift_starting_later_does_not_count_yet(self, client: httpx.AsyncClient) -> None:
        await _uplifted(client, starts_at=_z(datetime.now(UTC) + timedelta(days=2)))
        decision = await decide(client, "2500.00", "SO-1")
        assert decision["credit_limit"] == "1000.00"
        assert "TEMPORARY_UPLIFT" not in _codes(decision)

    async def test_the_decision_stores_the_uplift_for_replay(self, client: httpx.AsyncClient) -> None:
        await _uplifted(client)
        decision = await decide(client, "2500.00", "SO-1")
        detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
        assert detail["inputs"]["customer"]["uplift"] == "2000.00"


def _customer(uplift_minor: int | None, starts: datetime | None, ends: datetime | None) -> Customer:
    return Customer(
        id="C-1",
        country="NL",
        limit_currency="EUR",
        manual_limit_minor=100_000,
        uplift_minor=uplift_minor,
        uplift_starts_at=starts,
        uplift_ends_at=ends,
        blocked=False,
        master_data_from="erp",
    )


class TestUpliftInForce:
    @given(
        start=st.integers(min_value=-10_000, max_value=10_000),
        length=st.integers(min_value=1, max_value=10_000),
        now=st.integers(min_value=-20_000, max_value=20_000),
        amount=st.integers(min_value=1, max_value=10**12),
    )
    def test_counts_exactly_inside_its_period(self, start: int, length: int, now: int, amount: int) -> None:
        starts = START + timedelta(minutes=start)
        ends = starts + timedelta(minutes=length)
        moment = START + timedelta(minutes=now)
        facts = customer_facts(_customer(amount, starts, ends), None, first_order=False, now=moment)
        if starts <= moment < ends:
            assert facts.uplift is not None
            assert facts.uplift * 100 == amount
            assert facts.uplift_currency == "EUR"
        else:
            assert facts.uplift is None
        # The standing limit is never touched by the uplift.
        assert facts.manual_limit is not None
        assert facts.manual_limit * 100 == 100_000

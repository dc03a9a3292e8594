"""GET /v1/decisions filters by reason code, provider, policy version and amount; /export streams them as CSV."""

from __future__ import annotations

import csv
import io

import httpx

from app.db import Database
from app.decisions.export import decisions_csv
from app.decisions.query import DecisionFilters
from tests.conftest import auth, key_for, order_body


async def decide(client: httpx.AsyncClient, amount: str, registration_number: str | None, order_id: str) -> dict:
    response = await client.post(
        "/v1/decisions", json=order_body(amount, registration_number, order_id=order_id), headers=auth()
    )
    assert response.status_code == 201
    return response.json()


async def ids(client: httpx.AsyncClient, **params: str) -> set[str]:
    response = await client.get("/v1/decisions", params=params, headers=auth(key_for("read")))
    assert response.status_code == 200, response.text
    return {item["order_id"] for item in response.json()["items"]}


async def seed(client: httpx.AsyncClient) -> None:
    await decide(client, "1250.00", "12345670", "SO-A")  # class A: accept within the limit
    await decide(client, "1250.00", "12345678", "SO-E")  # class E: prepayment, high risk
    await decide(client, "100.00", "87654328", "SO-SMALL")  # under the small-order threshold, nothing cached: no report
    await decide(client, "3000.00", "12345679", "SO-INSOLVENT")  # reject


class TestNewFilters:
    async def test_filters_by_reason_code(self, client: httpx.AsyncClient) -> None:
        await seed(client)
        assert await ids(client, reason_code="HIGH_RISK_PREPAYMENT") == {"SO-E"}
        assert await ids(client, reason_code="SMALL_ORDER_NO_REPORT") == {"SO-SMALL"}
        assert await ids(client, reason_code="INSOLVENT", outcome="reject") == {"SO-INSOLVENT"}
        assert await ids(client, reason_code="GROUP_LIMIT") == set()  # a known code no decision carries

    async def test_filters_by_provider_and_policy_version(self, client: httpx.AsyncClient) -> None:
        await seed(client)
        assert await ids(client, provider="simulated") == {"SO-A", "SO-E", "SO-INSOLVENT"}
        assert await ids(client, policy_version="default-2026.11") == {"SO-A", "SO-E", "SO-SMALL", "SO-INSOLVENT"}
        assert await ids(client, policy_version="2025.01") == set()

    async def test_filters_by_an_inclusive_amount_range_in_one_currency(self, client: httpx.AsyncClient) -> None:
        await seed(client)
        assert await ids(client, currency="EUR", amount_min="1250.00", amount_max="3000") == {
            "SO-A",
            "SO-E",
            "SO-INSOLVENT",
        }
        assert await ids(client, currency="EUR", amount_max="1249.99") == {"SO-SMALL"}
        assert await ids(client, currency="USD", amount_min="0") == set()

    async def test_refuses_an_amount_bound_without_currency_or_with_too_many_decimals(
        self, client: httpx.AsyncClient
    ) -> None:
        cases = [
            ({"amount_min": "10.00"}, "query.currency"),
            ({"currency": "EUR", "amount_max": "10.001"}, "query.amount_max"),
            ({"currency": "EUR", "amount_min": "1e3"}, "query.amount_min"),
            ({"currency": "XYZ"}, "query.currency"),
            ({"reason_code": "within limit"}, "query.reason_code"),
        ]
        for params, field in cases:
            response = await client.get("/v1/decisions", params=params, headers=auth())
            assert response.status_code == 422, params
            assert [error["field"] for error in response.json()["errors"]] == [field], params


class TestExport:
    async def test_streams_every_matching_decision_as_csv(self, client: httpx.AsyncClient) -> None:
        await seed(client)
        response = await client.get("/v1/decisions/export", headers=auth(key_for("read")))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["order_id"] for row in rows] == ["SO-INSOLVENT", "SO-SMALL", "SO-E", "SO-A"]
        prepaid = next(row for row in rows if row["order_id"] == "SO-E")
        assert (prepaid["amount"], prepaid["prepayment_amount"], prepaid["approved_credit_amount"]) == (
            "1250.00",
            "1250.00",
            "0.00",
        )
        assert "HIGH_RISK_PREPAYMENT" in prepaid["reason_codes"].split()
        assert prepaid["decided_at"].endswith("Z")

    async def test_applies_the_history_filters(self, client: httpx.AsyncClient) -> None:
        await seed(client)
        response = await client.get(
            "/v1/decisions/export", params={"provider": "simulated", "outcome": "reject"}, headers=auth()
        )
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [row["order_id"] for row in rows] == ["SO-INSOLVENT"]

    async def test_spans_many_chunks_without_gaps_or_repeats(
        self, client: httpx.AsyncClient, database_url: str
    ) -> None:
        for index in range(7):
            await decide(client, "100.00", None, f"SO-{index}")
        database = Database(database_url)
        chunks = [chunk async for chunk in decisions_csv(database, DecisionFilters(), chunk_size=3)]
        await database.dispose()
        assert len(chunks) == 3  # header with 3 rows, 3 rows, 1 row
        rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
        assert [row["order_id"] for row in rows] == [f"SO-{index}" for index in reversed(range(7))]

    async def test_a_bad_filter_is_422_before_anything_streams(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions/export", params={"amount_min": "5"}, headers=auth())
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"

    async def test_needs_the_read_scope(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions/export", headers=auth(key_for("decide")))
        assert response.status_code == 403

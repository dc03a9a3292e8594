"""Bad input gets a 4xx problem naming the field, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings
from tests.conftest import auth, order_body, table_counts

Unchanged = Callable[[], Awaitable[None]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The decision rate limit on, as deployed: a refused request must not use up any of it."""
    return settings.model_copy(update={"decision_rate_limit": 600})


@pytest.fixture
async def unchanged(client: httpx.AsyncClient, engine: AsyncEngine) -> Unchanged:
    """Call it after the refused request: every table holds what it held when the app had started."""
    before = await table_counts(engine)

    async def check() -> None:
        assert await table_counts(engine) == before

    return check


def with_order(**changes: Any) -> dict[str, Any]:
    body = order_body()
    body["order"].update(changes)
    return body


def with_customer(**changes: Any) -> dict[str, Any]:
    body = order_body()
    body["customer"].update(changes)
    return body


def without(section: str, field: str) -> dict[str, Any]:
    body = order_body()
    del body[section][field]
    return body


INVALID_BODIES = [
    pytest.param(with_order(amount="0.00"), "order.amount", id="zero-amount"),
    pytest.param(with_order(amount="-5.00"), "order.amount", id="negative-amount"),
    pytest.param(with_order(amount="12.345"), "order.amount", id="more-decimals-than-eur"),
    pytest.param(with_order(amount="10.5", currency="JPY"), "order.amount", id="decimals-on-jpy"),
    pytest.param(with_order(amount=1250.0), "order.amount", id="amount-as-json-number"),
    pytest.param(with_order(amount="1e3"), "order.amount", id="amount-in-exponent-form"),
    pytest.param(with_order(amount="NaN"), "order.amount", id="amount-nan"),
    pytest.param(with_order(currency="EURO"), "order.currency", id="currency-too-long"),
    pytest.param(with_order(currency="ABC"), "order.currency", id="unknown-currency"),
    pytest.param(with_order(currency="XAU"), "order.currency", id="currency-without-minor-units"),
    pytest.param(with_customer(country="XX"), "customer.country", id="unknown-country"),
    pytest.param(with_customer(country="nl"), "customer.country", id="lowercase-country"),
    pytest.param(without("customer", "id"), "customer.id", id="missing-customer-id"),
    pytest.param(with_customer(id=""), "customer.id", id="empty-customer-id"),
    pytest.param(without("order", "id"), "order.id", id="missing-order-id"),
    pytest.param(without("order", "amount"), "order.amount", id="missing-amount"),
    pytest.param(with_order(discount="10.00"), "order.discount", id="unknown-order-field"),
    pytest.param(with_customer(credit_limit="1000000.00"), "customer.credit_limit", id="unknown-customer-field"),
    pytest.param({**order_body(), "outcome": "accept"}, "outcome", id="unknown-top-level-field"),
    pytest.param({"order": order_body()["order"]}, "customer", id="missing-customer"),
    pytest.param([order_body()], "body", id="array-body"),
]


class TestInvalidBodies:
    @pytest.mark.parametrize(("body", "field"), INVALID_BODIES)
    async def test_rejects_with_problem_naming_the_field(
        self, client: httpx.AsyncClient, unchanged: Unchanged, body: Any, field: str
    ) -> None:
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422
        assert problem["code"] == "validation_error"
        assert field in [error["field"] for error in problem["errors"]]
        await unchanged()


class TestMalformedRequests:
    async def test_rejects_a_body_that_is_not_json(self, client: httpx.AsyncClient, unchanged: Unchanged) -> None:
        response = await client.post(
            "/v1/decisions", content=b'{"order": {', headers={**auth(), "Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "body"
        await unchanged()

    async def test_rejects_an_empty_body(self, client: httpx.AsyncClient, unchanged: Unchanged) -> None:
        response = await client.post(
            "/v1/decisions", content=b"", headers={**auth(), "Content-Type": "application/json"}
        )
        assert response.status_code in (400, 422)
        assert response.json()["errors"][0]["field"] == "body"
        await unchanged()

    async def test_rejects_a_wrong_content_type(self, client: httpx.AsyncClient, unchanged: Unchanged) -> None:
        response = await client.post(
            "/v1/decisions",
            content=json.dumps(order_body()).encode(),
            headers={**auth(), "Content-Type": "text/plain"},
        )
        assert response.status_code == 415
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unsupported_media_type"
        assert [error["field"] for error in response.json()["errors"]] == ["body"]
        await unchanged()

    async def test_rejects_a_form_body(self, client: httpx.AsyncClient, unchanged: Unchanged) -> None:
        response = await client.post("/v1/decisions", data={"order": "x"}, headers=auth())
        assert response.status_code == 415
        await unchanged()

    async def test_rejects_a_one_megabyte_body(self, client: httpx.AsyncClient, unchanged: Unchanged) -> None:
        body = order_body()
        body["customer"]["name"] = "x" * (1024 * 1024)
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "payload_too_large"
        assert [error["field"] for error in response.json()["errors"]] == ["body"]
        await unchanged()

    async def test_rejects_a_large_body_sent_without_length(
        self, client: httpx.AsyncClient, unchanged: Unchanged
    ) -> None:
        async def chunks():  # type: ignore[no-untyped-def]
            yield b'{"order": {"id": "SO-1", "amount": "1.00", "currency": "EUR"}, "customer": {"id": "'
            for _ in range(64):
                yield b"x" * 16384
            yield b'", "country": "NL"}}'

        response = await client.post(
            "/v1/decisions", content=chunks(), headers={**auth(), "Content-Type": "application/json"}
        )
        assert response.status_code == 413
        await unchanged()


class TestQueryValidation:
    async def test_rejects_an_unknown_outcome_filter(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions", params={"outcome": "maybe"}, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.outcome"

    async def test_rejects_a_forged_cursor(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions", params={"cursor": "not-a-cursor"}, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.cursor"

    async def test_rejects_a_time_without_offset(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions", params={"decided_from": "2026-11-01T00:00:00"}, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.decided_from"

    @pytest.mark.parametrize("limit", ["0", "501", "ten"])
    async def test_rejects_a_limit_out_of_range(self, client: httpx.AsyncClient, limit: str) -> None:
        response = await client.get("/v1/decisions", params={"limit": limit}, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.limit"


class TestUnknownQueryParameters:
    async def test_a_misspelt_filter_is_refused_not_ignored(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions?customer=C-42", headers=auth())
        assert response.status_code == 422
        assert [error["field"] for error in response.json()["errors"]] == ["query.customer"]

    async def test_declared_filters_are_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions?customer_id=C-42&limit=5", headers=auth())
        assert response.status_code == 200


class TestNulCharacters:
    """PostgreSQL cannot hold a NUL in text: it is refused at the edge with 422, never a 500 or a cut stream."""

    @pytest.mark.parametrize("path", ["/v1/decisions?customer_id=%00", "/v1/decisions/export?provider=a%00"])
    async def test_in_a_query_value(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "contains a NUL character"

    async def test_in_a_path_value(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/decisions/a%00b", headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "path.decision_id"

    async def test_in_a_body_string(self, client: httpx.AsyncClient, unchanged: Unchanged) -> None:
        body = order_body()
        body["customer"]["name"] = "Bakkerij\x00Jansen"
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 422
        await unchanged()

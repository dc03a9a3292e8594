"""Clients cannot set limits, outcomes, ids or reviewers through fields they do not own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, count_rows, key_for, order_body
from tests.erp import credit_file, manual_limit, put_customer, put_invoice

SERVER_OWNED_DECISION_FIELDS = {
    "id": "00000000-0000-0000-0000-000000000001",
    "outcome": "accept",
    "credit_limit": "1000000.00",
    "available_credit": "1000000.00",
    "approved_credit_amount": "1250.00",
    "prepayment_amount": "0.00",
    "exposure": "0.00",
    "reasons": [{"code": "WITHIN_LIMIT", "message": "granted"}],
    "reviewer": "me",
    "policy_version": "v-mine",
    "decided_at": "2026-01-01T00:00:00Z",
}
# Master data only the ERP (the receivables scope) sets, sent by a checkout (decide scope) with an order.
ERP_OWNED_CUSTOMER_FIELDS = {
    "manual_limit": "1000000.00",
    "credit_block": False,
    "segment": "key_account",
    "group_limit": "1000000.00",
    "payment_terms_days": 90,
    "parent_id": "C-ROOT",
}


def _named(response: httpx.Response, field: str) -> bool:
    return any(field in error["field"] for error in response.json().get("errors", []))


class TestDecisionRequestOwnsOnlyTheOrder:
    @pytest.mark.parametrize(("field", "value"), SERVER_OWNED_DECISION_FIELDS.items())
    async def test_a_decision_field_in_the_request_is_refused(
        self, client: httpx.AsyncClient, engine: AsyncEngine, field: str, value: Any
    ) -> None:
        body = order_body()
        body[field] = value
        response = await client.post("/v1/decisions", json=body, headers=auth(key_for("decide")))
        assert response.status_code == 422, response.text
        assert _named(response, field)
        assert await count_rows(engine, "decisions") == 0

    @pytest.mark.parametrize("field", ["outcome", "approved_credit_amount", "credit_limit"])
    async def test_a_decision_field_inside_the_order_is_refused(self, client: httpx.AsyncClient, field: str) -> None:
        body = order_body()
        body["order"][field] = SERVER_OWNED_DECISION_FIELDS[field]
        response = await client.post("/v1/decisions", json=body, headers=auth(key_for("decide")))
        assert response.status_code == 422, response.text
        assert _named(response, f"order.{field}")

    @pytest.mark.parametrize(("field", "value"), ERP_OWNED_CUSTOMER_FIELDS.items())
    async def test_the_checkout_cannot_set_master_data_with_an_order(
        self, client: httpx.AsyncClient, field: str, value: Any
    ) -> None:
        await put_customer(client, "C-42", **manual_limit("500.00"))
        body = order_body("400.00")
        body["customer"][field] = value
        response = await client.post("/v1/decisions", json=body, headers=auth(key_for("decide")))
        assert response.status_code == 422, response.text
        assert _named(response, f"customer.{field}")
        file = await credit_file(client, "C-42")
        assert file["limit"] == {**file["limit"], "amount": "500.00", "source": "manual"}
        assert file["blocked"] is False


class TestErpWritesOwnOnlyTheirRecords:
    @pytest.mark.parametrize("field", ["id", "exposure", "available_credit", "created_at", "credit_limit"])
    async def test_customer_master_data_refuses_computed_fields(self, client: httpx.AsyncClient, field: str) -> None:
        body = {"name": "Bakkerij Jansen B.V.", "country": "NL", field: "1"}
        response = await client.put("/v1/customers/C-42", json=body, headers=auth(key_for("receivables")))
        assert response.status_code == 422, response.text
        assert _named(response, field)

    @pytest.mark.parametrize("field", ["customer_id", "id", "status", "paid_amount"])
    async def test_an_invoice_refuses_fields_it_does_not_own(self, client: httpx.AsyncClient, field: str) -> None:
        await put_customer(client, "C-42")
        body = {
            "currency": "EUR",
            "amount": "100.00",
            "open_amount": "100.00",
            "issue_date": "2026-11-01",
            "due_date": "2026-12-01",
            field: "C-OTHER",
        }
        path = "/v1/customers/C-42/invoices/INV-1"
        response = await client.put(path, json=body, headers=auth(key_for("receivables")))
        assert response.status_code == 422, response.text
        assert _named(response, field)

    async def test_an_order_event_cannot_grant_credit(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-42")
        await put_invoice(client, "INV-1", "100.00")
        body = {"type": "shipped", "approved_credit_amount": "1000000.00"}
        response = await client.post("/v1/orders/SO-1/events", json=body, headers=auth(key_for("receivables")))
        assert response.status_code == 422, response.text
        assert _named(response, "approved_credit_amount")

"""Customer master data: the ERP's PUT, what orders may and may not set, clear errors."""

from __future__ import annotations

import httpx

from tests.conftest import auth, key_for, order_body
from tests.erp import decide, manual_limit, put_customer


class TestMasterData:
    async def test_put_creates_then_replaces_a_customer(self, client: httpx.AsyncClient) -> None:
        body = {"country": "NL", "segment": "key_account", "payment_terms_days": 45, **manual_limit("20000.00")}
        created = await client.put("/v1/customers/C-1", json=body, headers=auth())
        assert created.status_code == 201, created.text
        assert created.json()["manual_limit"] == {
            "amount": "20000.00",
            "reason": "agreed with sales",
            "expires_at": None,
            "active": True,
        }
        replaced = await client.put("/v1/customers/C-1", json={"country": "BE"}, headers=auth())
        assert replaced.status_code == 200
        fetched = await client.get("/v1/customers/C-1", headers=auth(key_for("read")))
        assert fetched.json()["country"] == "BE"
        assert fetched.json()["manual_limit"] is None
        assert fetched.json()["master_data_from"] == "erp"

    async def test_writing_needs_the_receivables_scope(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/v1/customers/C-1", json={"country": "NL"}, headers=auth(key_for("decide")))
        assert response.status_code == 403

    async def test_rejects_unknown_fields_and_names_them(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/v1/customers/C-1", json={"country": "NL", "credit_score": 99}, headers=auth())
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == ["credit_score"]

    async def test_a_limit_needs_its_currency(self, client: httpx.AsyncClient) -> None:
        body = {"country": "NL", "manual_limit": {"amount": "100.00", "reason": "x"}}
        response = await client.put("/v1/customers/C-1", json=body, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "manual_limit"

    async def test_refuses_a_segment_the_active_policy_does_not_have(self, client: httpx.AsyncClient) -> None:
        """Any name is well formed; the active policy's segments refuse it: 409, naming the field."""
        response = await client.put("/v1/customers/C-1", json={"country": "NL", "segment": "vip"}, headers=auth())
        assert response.status_code == 409
        assert response.json()["errors"][0]["field"] == "segment"

    async def test_an_unknown_customer_is_not_found(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/customers/C-404", headers=auth())
        assert response.status_code == 404


class TestCustomersFromOrders:
    async def test_an_order_creates_an_unknown_customer_without_limits_or_blocks(
        self, client: httpx.AsyncClient
    ) -> None:
        await decide(client, "100.00", "SO-1", customer_id="C-7")
        customer = (await client.get("/v1/customers/C-7", headers=auth())).json()
        assert customer["master_data_from"] == "order"
        assert customer["registration_number"] == "12345670"
        assert customer["segment"] is None
        assert customer["manual_limit"] is None
        assert customer["credit_block"] is None

    async def test_a_later_order_refreshes_what_it_gives_and_keeps_what_it_leaves_out(
        self, client: httpx.AsyncClient
    ) -> None:
        await decide(client, "100.00", "SO-1", customer_id="C-7")
        renamed = order_body("100.00", "87654321", order_id="SO-2", customer_id="C-7")
        renamed["customer"]["name"] = "Jansen & Zn. B.V."
        assert (await client.post("/v1/decisions", json=renamed, headers=auth())).status_code == 201
        silent = order_body("100.00", None, order_id="SO-3", customer_id="C-7")
        del silent["customer"]["name"]
        assert (await client.post("/v1/decisions", json=silent, headers=auth())).status_code == 201

        customer = (await client.get("/v1/customers/C-7", headers=auth())).json()
        assert (customer["name"], customer["registration_number"]) == ("Jansen & Zn. B.V.", "87654321")

    async def test_an_order_cannot_set_a_limit_or_a_segment(self, client: httpx.AsyncClient) -> None:
        body = order_body("100.00")
        body["customer"]["manual_limit"] = "999999.00"
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "customer.manual_limit"

    async def test_master_data_from_the_erp_wins_over_the_order(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-42", name="Jansen (ERP)", registration_number="12345678")
        decision = await decide(client, "1000.00", "SO-1")  # the order says ...670 (class A)
        assert decision["report"]["risk_class"] == "E"  # the ERP's ...678 was used
        customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["name"] == "Jansen (ERP)"
        assert customer["registration_number"] == "12345678"

    async def test_a_blocked_customer_is_rejected(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, credit_block={"reason": "legal dispute"})
        decision = await decide(client, "100.00", "SO-1")
        assert decision["outcome"] == "reject"
        assert decision["reasons"][0]["code"] == "CUSTOMER_BLOCKED"
        assert decision["reasons"][0]["facts"]["block_reason"] == "legal dispute"

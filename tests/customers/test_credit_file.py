"""The credit file: where the limit comes from, DBT, DSO, the latest report and recent decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from tests.conftest import auth, key_for
from tests.erp import credit_file, decide, manual_limit, put_customer, put_invoice


class TestLimitSource:
    async def test_without_a_manual_limit_the_policys_limit_on_the_cached_report_is_shown(
        self, client: httpx.AsyncClient
    ) -> None:
        decision = await decide(client, "1000.00", "SO-1")
        again = await decide(client, "1000.00", "SO-2")  # no longer a first order: the limit a decision has now
        file = await credit_file(client)
        assert file["limit"]["source"] == "policy"
        assert file["limit"]["decision_id"] == again["id"]
        assert file["limit"]["amount"] == again["credit_limit"]
        assert decision["id"] in [item["id"] for item in file["recent_decisions"]]
        assert file["latest_report"]["risk_class"] == "A"

    async def test_an_expired_manual_limit_no_longer_applies(self, client: httpx.AsyncClient) -> None:
        past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        await put_customer(
            client, limit_currency="EUR", manual_limit={"amount": "100.00", "reason": "trial", "expires_at": past}
        )
        decision = await decide(client, "1000.00", "SO-1")
        assert "MANUAL_LIMIT" not in [reason["code"] for reason in decision["reasons"]]
        assert decision["outcome"] == "accept"
        customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["manual_limit"]["active"] is False

    async def test_a_customer_without_decisions_or_report_has_the_unrated_limit_a_decision_would_have(
        self, client: httpx.AsyncClient
    ) -> None:
        await put_customer(client)
        file = await credit_file(client)
        assert file["limit"] == {
            "amount": "1000.00",  # the default policy's grid for an unrated company
            "source": "policy",
            "reason": None,
            "expires_at": None,
            "decision_id": None,
            "decided_at": None,
            "uplift": None,
        }
        assert file["risk_class"] == "unknown"
        assert file["available_credit"] == "1000.00"

    async def test_needs_the_read_scope(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        response = await client.get("/v1/customers/C-42/credit-file", headers=auth(key_for("decide")))
        assert response.status_code == 403


class TestPaymentBehaviour:
    async def test_dbt_weighs_days_beyond_terms_by_amount_and_dso_uses_ninety_days_of_sales(
        self, client: httpx.AsyncClient
    ) -> None:
        await put_customer(client, **manual_limit("10000.00"))
        # Two invoices due 20 days ago: one paid 10 days late, one paid on time.
        await put_invoice(client, "INV-1", "300.00", due_in_days=-20)
        await put_invoice(client, "INV-2", "100.00", due_in_days=-20)
        await put_invoice(client, "INV-3", "500.00", due_in_days=10)
        due = date.today() - timedelta(days=20)
        for payment_id, invoice_id, amount, paid_on in (
            ("P-1", "INV-1", "300.00", due + timedelta(days=10)),
            ("P-2", "INV-2", "100.00", due),
        ):
            body = {"id": payment_id, "amount": amount, "paid_on": str(paid_on)}
            response = await client.post(
                f"/v1/customers/C-42/invoices/{invoice_id}/payments", json=body, headers=auth()
            )
            assert response.status_code == 201
        file = await credit_file(client)
        assert file["dbt_days"] == "7.5"  # (300 × 10 + 100 × 0) / 400
        assert file["dso_days"] == "50.0"  # 500 open / 900 invoiced in 90 days × 90
        assert file["exposure"]["open_receivables"] == "500.00"
        assert file["overdue_amount"] == "0.00"

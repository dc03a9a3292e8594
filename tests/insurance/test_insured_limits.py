"""Scenario: under a policy with an insurance section, a covered customer gets a higher limit than one without,
within the retention; the credit file and the decision agree."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.conftest import auth, order_body
from tests.erp import credit_file, put_customer
from tests.insurance.helpers import activate_insurance_policy, put_cover


async def decide(client: httpx.AsyncClient, amount: str, order_id: str, customer_id: str) -> dict[str, object]:
    response = await client.post(
        "/v1/decisions", json=order_body(amount, order_id=order_id, customer_id=customer_id), headers=auth()
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def codes(decision: dict[str, object]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]  # type: ignore[attr-defined, index]


class TestCoverSetsTheLimit:
    async def test_a_covered_customer_gets_the_cover_plus_its_retention(self, client: httpx.AsyncClient) -> None:
        await activate_insurance_policy(client)
        await put_customer(client, "C-1")
        await put_customer(client, "C-2")
        assert (await put_cover(client, "C-1", amount="20000.00")).status_code == 201
        covered = await decide(client, "15000.00", "SO-1", "C-1")
        uncovered = await decide(client, "15000.00", "SO-2", "C-2")
        assert (covered["credit_limit"], covered["outcome"]) == ("22000.00", "accept")
        assert "COVER_LIMIT" in codes(covered)
        assert (uncovered["credit_limit"], uncovered["outcome"]) == ("2000.00", "prepayment")
        assert uncovered["prepayment_amount"] == "13000.00"
        assert "NO_COVER" in codes(uncovered)
        file = await credit_file(client, "C-1")
        assert (file["limit"]["amount"], file["available_credit"]) == ("22000.00", "7000.00")

    async def test_a_withdrawn_cover_takes_the_insured_part_away(self, client: httpx.AsyncClient) -> None:
        await activate_insurance_policy(client)
        await put_customer(client, "C-1")
        await put_cover(client, "C-1", amount="20000.00")
        await put_cover(client, "C-1", amount="20000.00", status="withdrawn")
        decision = await decide(client, "1000.00", "SO-1", "C-1")
        assert decision["credit_limit"] == "2000.00"
        assert "INSURED_EXPOSURE" not in codes(decision)

    async def test_trading_history_paid_on_time_earns_the_discretionary_limit(self, client: httpx.AsyncClient) -> None:
        await activate_insurance_policy(
            client, discretionary={"amount": "8000.00", "min_trading_days": 180, "max_days_late": 10}
        )
        await put_customer(client, "C-1")
        await put_customer(client, "C-2")
        for customer_id, paid_late in (("C-1", 5), ("C-2", 40)):
            body = {
                "currency": "EUR",
                "amount": "100.00",
                "open_amount": "100.00",
                "issue_date": "2025-01-10",
                "due_date": "2026-01-10",
            }
            put = await client.put(f"/v1/customers/{customer_id}/invoices/I-1", json=body, headers=auth())
            assert put.status_code == 201, put.text
            paid_on = date(2026, 1, 10) + timedelta(days=paid_late)
            payment = {"id": "P-1", "amount": "100.00", "paid_on": paid_on.isoformat()}
            paid = await client.post(f"/v1/customers/{customer_id}/invoices/I-1/payments", json=payment, headers=auth())
            assert paid.status_code == 201, paid.text
        punctual = await decide(client, "300.00", "SO-1", "C-1")  # above the small-order threshold
        late = await decide(client, "300.00", "SO-2", "C-2")
        assert (punctual["credit_limit"], late["credit_limit"]) == ("10000.00", "2000.00")
        assert "DISCRETIONARY_LIMIT" in codes(punctual)

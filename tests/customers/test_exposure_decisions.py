"""Exposure in decisions: overdue stops delivery on credit, group limits, limits in another currency."""

from __future__ import annotations

import httpx

from tests.conftest import auth, order_body
from tests.erp import credit_file, decide, manual_limit, put_customer, put_invoice


class TestOverdueStop:
    async def test_overdue_beyond_tolerance_turns_an_accept_into_the_stop_outcome(
        self, client: httpx.AsyncClient
    ) -> None:
        await put_customer(client, **manual_limit("50000.00"))
        await put_invoice(client, "INV-OLD", "1500.00", due_in_days=-45)
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "prepayment"  # the default policy's stop outcome
        assert decision["approved_credit_amount"] == "0.00"
        reason = decision["reasons"][0]
        assert reason["code"] == "OVERDUE_INVOICES"
        assert reason["facts"]["overdue_days"] == 45
        assert reason["facts"]["overdue_amount"] == "1500.00"

    async def test_overdue_within_tolerance_still_accepts(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("50000.00"))
        await put_invoice(client, "INV-LATE", "300.00", due_in_days=-10)
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "accept"
        assert decision["exposure"] == "300.00"

    async def test_the_credit_file_shows_overdue_amount_and_age(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("50000.00"))
        await put_invoice(client, "INV-1", "1500.00", due_in_days=-45)
        await put_invoice(client, "INV-2", "500.00", due_in_days=-5)
        await put_invoice(client, "INV-3", "700.00", due_in_days=20)
        file = await credit_file(client)
        assert file["overdue_amount"] == "2000.00"
        assert file["oldest_overdue_days"] == 45
        assert file["limit"]["source"] == "manual"
        # The overdue stop leaves a decision nothing on credit, and the file says so and why.
        assert file["available_credit"] == "0.00"
        assert "OVERDUE_INVOICES" in [reason["code"] for reason in file["credit_reasons"]]


class TestGroupLimit:
    async def test_a_member_gets_no_more_than_the_group_has_left(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "G-ROOT", limit_currency="EUR", group_limit="3000.00")
        await put_customer(client, "G-A", parent_id="G-ROOT", **manual_limit("5000.00"))
        await put_customer(client, "G-B", parent_id="G-ROOT", **manual_limit("5000.00"))
        await put_invoice(client, "INV-A", "2000.00", customer_id="G-A")
        decision = await decide(client, "1500.00", "SO-B1", customer_id="G-B")
        assert decision["outcome"] == "prepayment"
        assert decision["available_credit"] == "1000.00"
        assert decision["approved_credit_amount"] == "1000.00"
        group = next(reason for reason in decision["reasons"] if reason["code"] == "GROUP_LIMIT")
        assert group["facts"]["group_exposure"] == "2000.00"
        file = await credit_file(client, "G-A")
        assert file["group"] == {"id": "G-ROOT", "limit": "3000.00", "exposure": "3000.00", "available_credit": "0.00"}

    async def test_the_groups_root_is_checked_against_the_group_limit_too(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "G-ROOT", group_limit="3000.00", **manual_limit("5000.00"))
        await put_customer(client, "G-A", parent_id="G-ROOT", **manual_limit("5000.00"))
        await put_invoice(client, "INV-A", "2500.00", customer_id="G-A")
        decision = await decide(client, "1000.00", "SO-R1", customer_id="G-ROOT")
        assert decision["exposure"] == "0.00"
        assert decision["available_credit"] == "500.00"
        assert "GROUP_LIMIT" in [reason["code"] for reason in decision["reasons"]]
        file = await credit_file(client, "G-ROOT")
        assert file["group"]["exposure"] == "3000.00"  # 2500 owed by G-A + 500 reserved for the root


class TestCurrencies:
    async def test_a_limit_in_another_currency_is_converted_and_the_rate_kept(self, client: httpx.AsyncClient) -> None:
        rates = {"base": "EUR", "rates": {"CHF": "0.9500", "USD": "1.0800"}}
        assert (await client.put("/v1/rates", json=rates, headers=auth())).status_code == 200
        await put_customer(client, limit_currency="CHF", manual_limit={"amount": "1900.00", "reason": "agreed"})
        await put_invoice(client, "INV-1", "950.00", currency="CHF")
        decision = await decide(client, "500.00", "SO-1")  # EUR
        assert decision["credit_limit"] == "2000.00"
        assert decision["exposure"] == "1000.00"
        detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
        assert detail["inputs"]["rates"]["CHF"] == "1.052631578947"  # EUR per CHF, from the pushed EUR→CHF rate
        file = await credit_file(client)
        assert file["currency"] == "CHF"
        assert file["exposure"]["total"] == "1425.00"  # 950 CHF owed + 500 EUR reserved at 0.95

    async def test_exposure_in_a_currency_without_a_rate_goes_to_review(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("5000.00"))
        await put_invoice(client, "INV-1", "100.00", currency="GBP")
        decision = await decide(client, "500.00", "SO-1")
        assert decision["outcome"] == "review"
        assert decision["reasons"][0]["code"] == "FX_RATE_UNAVAILABLE"
        assert decision["reasons"][0]["facts"]["from"] == "GBP"

    async def test_an_order_in_another_currency_uses_the_pushed_rate(self, client: httpx.AsyncClient) -> None:
        await client.put("/v1/rates", json={"base": "EUR", "rates": {"USD": "1.0800"}}, headers=auth())
        response = await client.post("/v1/decisions", json=order_body("1080.00", currency="USD"), headers=auth())
        assert response.json()["outcome"] == "accept", response.text


class TestPortfolio:
    async def test_sums_exposure_ages_overdue_and_lists_blocked_and_over_limit(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1", **manual_limit("1000.00"))
        await put_customer(client, "C-2", credit_block={"reason": "insolvency filed"})
        await put_invoice(client, "I-1", "1500.00", customer_id="C-1", due_in_days=-45)
        await put_invoice(client, "I-2", "100.00", customer_id="C-2", due_in_days=-100)
        await put_invoice(client, "I-3", "50.00", customer_id="C-2", due_in_days=10)
        response = await client.get("/v1/portfolio", headers=auth())
        portfolio = response.json()
        assert portfolio["total_exposure"] == "1650.00"
        assert portfolio["overdue_by_age"] == {"0-30": "0.00", "31-60": "1500.00", "61-90": "0.00", "90+": "100.00"}
        assert portfolio["customers_over_limit"] == [{"customer_id": "C-1", "limit": "1000.00", "exposure": "1500.00"}]
        assert portfolio["blocked_customers"] == [{"customer_id": "C-2", "reason": "insolvency filed"}]
        assert portfolio["dso_days"] is not None

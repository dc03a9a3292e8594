"""POST /v1/decisions through the simulated provider: every outcome, with its amounts."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from tests.conftest import auth, order_body


async def decide(client: httpx.AsyncClient, body: dict) -> dict:
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    return response.json()


def assert_amounts_add_up(decision: dict) -> None:
    approved = Decimal(decision["approved_credit_amount"])
    prepayment = Decimal(decision["prepayment_amount"])
    assert approved + prepayment == Decimal(decision["amount"])
    assert approved <= Decimal(decision["available_credit"])


class TestOutcomes:
    async def test_accepts_class_a_order_within_limit(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1250.00", "12345670"))
        assert decision["outcome"] == "accept"
        assert decision["approved_credit_amount"] == "1250.00"
        assert decision["prepayment_amount"] == "0.00"
        assert decision["payment_terms_days"] == 30
        assert decision["report"]["risk_class"] == "A"
        assert decision["report"]["source"] == "fresh"
        assert "WITHIN_LIMIT" in [reason["code"] for reason in decision["reasons"]]
        assert_amounts_add_up(decision)

    async def test_asks_prepayment_of_the_excess_over_available_credit(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("9000.00", "12345676"))
        assert decision["outcome"] == "prepayment"
        limit = Decimal(decision["credit_limit"])
        assert Decimal("0") < limit < Decimal("9000.00")
        assert Decimal(decision["approved_credit_amount"]) == limit
        assert Decimal(decision["prepayment_amount"]) == Decimal("9000.00") - limit
        assert decision["reasons"][-1]["code"] == "EXCEEDS_AVAILABLE_CREDIT"
        assert_amounts_add_up(decision)

    async def test_asks_full_prepayment_from_high_risk_class(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1250.00", "12345678"))
        assert decision["outcome"] == "prepayment"
        assert decision["report"]["risk_class"] == "E"
        assert decision["approved_credit_amount"] == "0.00"
        assert decision["prepayment_amount"] == "1250.00"
        assert decision["reasons"][0]["code"] == "HIGH_RISK_PREPAYMENT"
        assert_amounts_add_up(decision)

    async def test_sends_order_above_review_threshold_to_review(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("60000.00", "12345671"))
        assert decision["outcome"] == "review"
        assert decision["approved_credit_amount"] == "0.00"
        assert decision["reasons"][-1]["code"] == "ABOVE_REVIEW_THRESHOLD"
        assert decision["reasons"][-1]["facts"]["review_above"] == "50000.00"

    async def test_sends_unknown_company_to_review(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1000.00", "00000000"))
        assert decision["outcome"] == "review"
        assert decision["report"]["source"] == "not_found"
        assert decision["reasons"][0]["code"] == "COMPANY_NOT_FOUND"

    async def test_rejects_insolvent_company(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1250.00", "12345679"))
        assert decision["outcome"] == "reject"
        assert decision["approved_credit_amount"] == "0.00"
        assert decision["prepayment_amount"] == "0.00"
        assert decision["reasons"][0]["code"] == "INSOLVENT"


class TestSmallOrders:
    async def test_buys_no_report_below_the_small_order_threshold(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("120.00", "12345672"))
        assert decision["report"]["source"] == "none"
        assert decision["report"]["provider"] is None
        assert decision["outcome"] == "accept"
        assert decision["reasons"][0]["code"] == "SMALL_ORDER_NO_REPORT"

    async def test_uses_unrated_limit_without_registration_number(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1500.00", None))
        assert decision["report"]["source"] == "none"
        assert decision["risk_class"] == "unknown"
        assert decision["outcome"] == "prepayment"
        assert decision["credit_limit"] == "1000.00"
        assert decision["prepayment_amount"] == "500.00"


class TestCurrencies:
    async def test_keeps_the_currency_minor_units(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1250", "12345670", currency="JPY"))
        assert decision["amount"] == "1250"
        assert decision["currency"] == "JPY"

    async def test_reviews_a_currency_without_a_known_rate(self, client: httpx.AsyncClient) -> None:
        decision = await decide(client, order_body("1250.00", "12345670", currency="USD"))
        assert decision["outcome"] == "review"
        assert decision["reasons"][0]["code"] == "FX_RATE_UNAVAILABLE"


class TestFirstOrder:
    async def test_caps_a_customers_first_order_and_not_the_next(self, client: httpx.AsyncClient) -> None:
        first = await decide(client, order_body("1000.00", "12345670", order_id="SO-1"))
        assert "FIRST_ORDER_CAP" in [reason["code"] for reason in first["reasons"]]
        assert first["credit_limit"] == "5000.00"
        second = await decide(client, order_body("1000.00", "12345670", order_id="SO-2"))
        assert "FIRST_ORDER_CAP" not in [reason["code"] for reason in second["reasons"]]
        assert Decimal(second["credit_limit"]) > Decimal("5000.00")


@pytest.mark.parametrize(
    ("registration_number", "risk_class"),
    [
        ("10000000", "A"),
        ("10000001", "A"),
        ("10000002", "B"),
        ("10000003", "B"),
        ("10000004", "C"),
        ("10000005", "C"),
        ("10000006", "D"),
        ("10000007", "D"),
        ("10000008", "E"),
        ("10000009", "insolvent"),
    ],
)
async def test_simulated_class_follows_the_last_digit(
    client: httpx.AsyncClient, registration_number: str, risk_class: str
) -> None:
    decision = await decide(client, order_body("500.00", registration_number))
    assert decision["report"]["risk_class"] == risk_class


async def test_a_stored_report_writes_money_and_times_as_the_rest_of_the_api(client: httpx.AsyncClient) -> None:
    """The report snapshot on a decision and in the credit file: amounts in minor units, times in UTC with Z."""
    decision = await decide(client, order_body("1250.00", "12345670"))
    detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
    customer_id = detail["customer_id"]
    credit_file = (await client.get(f"/v1/customers/{customer_id}/credit-file", headers=auth())).json()
    for snapshot in (detail["report_snapshot"], credit_file["latest_report"]):
        assert snapshot["limit_currency"] == "EUR"
        assert re.fullmatch(r"\d+\.\d\d", snapshot["recommended_limit"]), snapshot
        assert re.fullmatch(r"\d+\.\d\d", snapshot["cost"]), snapshot
        assert snapshot["fetched_at"].endswith("Z"), snapshot
        assert detail["decided_at"].endswith("Z")

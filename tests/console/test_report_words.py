"""The credit file's report block reads as words, not the provider's raw values."""

from __future__ import annotations

import httpx

from app.console.views import report_words, risk_words
from tests.conftest import auth, order_body
from tests.console.console import sign_in

SNAPSHOT = {
    "provider": "simulated",
    "reference": "SIM-1",
    "country": "NL",
    "registration_number": "12345670",
    "company_name": "Bakkerij Jansen B.V.",
    "status": "active",
    "risk_class": "A",
    "score": 95,
    "recommended_limit": "50000.00",
    "limit_currency": "EUR",
    "days_beyond_terms": 3,
    "negative_events": ["payment_default"],
    "fetched_at": "2026-12-04T10:00:00+00:00",
    "cost": "2.50",
    "cost_currency": "EUR",
    "raw_hash": "ab" * 32,
}


def test_each_value_is_said_in_words() -> None:
    words = dict(report_words(SNAPSHOT))
    assert words["Company"] == "Bakkerij Jansen B.V. (NL, no. 12345670)"
    assert words["Status"] == "Active, trading"
    assert words["Risk class"] == "A (very low risk)"
    assert words["Score"] == "95 of 100 (higher is safer)"
    assert words["Recommended limit"] == "50,000.00 EUR"
    assert words["Payment behaviour"] == "pays 3 days late on average"
    assert words["Negative events"] == "payment default"
    assert words["Fetched"] == "2026-12-04 10:00 UTC"
    assert words["Cost"] == "2.50 EUR"
    assert "ab" * 32 not in str(words)


def test_missing_values_are_named_as_missing() -> None:
    words = dict(
        report_words(
            {
                **SNAPSHOT,
                "risk_class": None,
                "score": None,
                "recommended_limit": None,
                "days_beyond_terms": 0,
                "negative_events": [],
                "status": "insolvent",
            }
        )
    )
    assert words["Risk class"] == "not rated"
    assert words["Score"] == "not given"
    assert words["Recommended limit"] == "none recommended"
    assert words["Payment behaviour"] == "pays on time"
    assert words["Negative events"] == "none reported"
    assert words["Status"] == "Insolvent"
    assert risk_words("Z") == "Z"


async def test_the_credit_file_shows_the_report_in_words(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/decisions", json=order_body(customer_id="C-9"), headers=auth())
    assert response.status_code == 201
    await sign_in(client)
    page = await client.get("/console/customers/C-9")
    assert page.status_code == 200
    assert 'id="report-title">Credit report' in page.text
    assert "A (very low risk)" in page.text
    assert "Active, trading" in page.text
    assert " of 100 (higher is safer)" in page.text

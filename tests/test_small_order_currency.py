"""The small-order rule in another currency: a report is bought exactly when the decision's reasons say so.

The policy's threshold (250.00 EUR) becomes 270.82 USD at 1.0833 USD per EUR, as the decision states it. An
order of exactly that amount is not small: it buys a report, and is never decided as though it had no
registration number. One cent less is small: no report, and the reason names the same threshold.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import auth, order_body


async def decide_in_usd(client: httpx.AsyncClient, amount: str) -> dict[str, Any]:
    rates = await client.put("/v1/rates", json={"base": "EUR", "rates": {"USD": "1.0833"}}, headers=auth())
    assert rates.status_code == 200, rates.text
    response = await client.post("/v1/decisions", json=order_body(amount, "12345670", currency="USD"), headers=auth())
    assert response.status_code == 201, response.text
    decision: dict[str, Any] = response.json()
    return decision


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


class TestSmallOrderInAnotherCurrency:
    async def test_an_order_at_the_converted_threshold_buys_a_report(self, client: httpx.AsyncClient) -> None:
        decision = await decide_in_usd(client, "270.82")
        assert decision["report"]["source"] == "fresh"
        assert decision["report"]["risk_class"] == "A"
        assert "NO_REGISTRATION_NUMBER" not in codes(decision)
        assert "SMALL_ORDER_NO_REPORT" not in codes(decision)

    async def test_an_order_below_it_buys_none_and_says_why(self, client: httpx.AsyncClient) -> None:
        decision = await decide_in_usd(client, "270.81")
        assert decision["report"]["source"] == "none"
        small = [reason for reason in decision["reasons"] if reason["code"] == "SMALL_ORDER_NO_REPORT"]
        assert [reason["facts"] for reason in small] == [{"threshold": "270.82"}]

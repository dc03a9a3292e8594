"""Credit history, as the first-order cap reads it: earlier orders of the customer, never the order itself."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import auth, order_body

# A new customer of class A: the default policy caps the first order on credit at 5,000.00.
FIRST_ORDER = order_body("30000.00", "12345670", order_id="SO-FIRST", customer_id="C-NEW")


async def _decide(client: httpx.AsyncClient, body: dict[str, object]) -> dict[str, object]:
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    return dict(response.json())


def _capped(decision: dict[str, object]) -> None:
    assert decision["outcome"] == "prepayment"
    assert decision["approved_credit_amount"] == "5000.00"
    assert decision["prepayment_amount"] == "25000.00"
    assert "FIRST_ORDER_CAP" in [reason["code"] for reason in decision["reasons"]]  # type: ignore[attr-defined]


class TestTheFirstOrderCap:
    async def test_resubmitting_the_first_order_is_capped_again(self, client: httpx.AsyncClient) -> None:
        _capped(await _decide(client, FIRST_ORDER))
        _capped(await _decide(client, FIRST_ORDER))  # the same order again, without an Idempotency-Key

    async def test_resubmissions_in_one_shared_transaction_are_all_capped(self, client: httpx.AsyncClient) -> None:
        responses = await asyncio.gather(
            *(client.post("/v1/decisions", json=FIRST_ORDER, headers=auth()) for _ in range(6))
        )
        assert {response.status_code for response in responses} == {201}
        for response in responses:
            _capped(response.json())

    async def test_an_earlier_other_order_with_credit_is_history(self, client: httpx.AsyncClient) -> None:
        first = await _decide(client, order_body("1000.00", "12345670", order_id="SO-EARLIER", customer_id="C-NEW"))
        assert first["approved_credit_amount"] == "1000.00"
        second = await _decide(client, FIRST_ORDER)
        assert "FIRST_ORDER_CAP" not in [reason["code"] for reason in second["reasons"]]  # type: ignore[attr-defined]
        assert second["approved_credit_amount"] == "30000.00"

"""Next steps on reasons: what a checkout or an ERP can offer when a decision holds an order back."""

from __future__ import annotations

import httpx

from app.policy.facts import NEXT_STEPS, REASON_CODES
from tests.conftest import auth
from tests.erp import credit_file, decide, manual_limit, put_customer


class TestNextSteps:
    def test_every_step_belongs_to_a_known_reason(self) -> None:
        assert set(NEXT_STEPS) <= REASON_CODES
        assert NEXT_STEPS["EXCEEDS_AVAILABLE_CREDIT"] == "request_limit_increase"

    async def test_an_order_over_the_limit_offers_a_limit_increase(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("1000.00"))
        decision = await decide(client, "3000.00", "SO-1")
        steps = {reason["code"]: reason["next_step"] for reason in decision["reasons"]}
        assert steps["EXCEEDS_AVAILABLE_CREDIT"] == "request_limit_increase"
        assert steps["MANUAL_LIMIT"] is None
        assert decision["next_steps"] == ["request_limit_increase"]
        stored = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
        assert stored["next_steps"] == ["request_limit_increase"]
        listed = (await client.get("/v1/decisions?customer_id=C-42", headers=auth())).json()["items"]
        assert listed[0]["next_steps"] == ["request_limit_increase"]
        file = await credit_file(client)
        assert all("next_step" in reason for reason in file["credit_reasons"])

    async def test_an_accepted_order_has_no_next_step(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("1000.00"))
        decision = await decide(client, "300.00", "SO-1")
        assert decision["outcome"] == "accept"
        assert decision["next_steps"] == []
        assert all(reason["next_step"] is None for reason in decision["reasons"])

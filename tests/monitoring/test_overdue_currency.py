"""The monitor's overdue flag and a decision's overdue stop are one rule, whatever the customer's limit currency.

A customer whose limits are in CHF owes overdue invoices in CHF; the policy's amount tolerance is in EUR. A
decision converts the tolerance at the pushed rate (and stops when no rate is known); the monitor, blocking
on `overdue`, must block exactly the customers a decision stops.
"""

from __future__ import annotations

import copy

import httpx
import pytest

from app.services import services_of
from tests.conftest import auth, key_for, order_body
from tests.erp import put_customer, put_invoice
from tests.monitoring.conftest import Running


async def block_on_overdue(client: httpx.AsyncClient) -> None:
    """The default policy (tolerance 1000.00 EUR, 30 days), with monitoring blocking on overdue invoices."""
    response = await client.get("/v1/policies/active", headers=auth())
    document = copy.deepcopy(response.json()["document"])
    document["version"] = "overdue-blocks"
    document["monitoring"]["block_on"] = ["insolvency", "overdue"]
    stored = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    assert stored.status_code == 201, stored.text
    activated = await client.post("/v1/policies/overdue-blocks/activate", headers=auth(key_for("admin")))
    assert activated.status_code == 200, activated.text


async def stopped_and_blocked(
    running: Running, chf_per_eur: str | None, overdue: str, days: int = 5
) -> tuple[bool, bool]:
    """Whether a decision in CHF stops on the overdue invoices, and whether a monitor pass then blocks."""
    client = running.client
    await block_on_overdue(client)
    if chf_per_eur is not None:
        rates = await client.put("/v1/rates", json={"base": "EUR", "rates": {"CHF": chf_per_eur}}, headers=auth())
        assert rates.status_code == 200, rates.text
    await put_customer(client, limit_currency="CHF")
    await put_invoice(client, "INV-1", overdue, currency="CHF", due_in_days=-days)
    response = await client.post(
        "/v1/decisions", json=order_body("600.00", currency="CHF", order_id="SO-1"), headers=auth()
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["report"]["source"] == "fresh"  # the monitor compares with this decision's report
    stopped = "OVERDUE_INVOICES" in [reason["code"] for reason in decision["reasons"]]

    await services_of(running.app).monitor.run_pass(10)

    customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
    blocked = customer["credit_block"] is not None
    if blocked:
        assert customer["credit_block"]["reason"] == "monitoring: overdue"
    return stopped, blocked


class TestOverdueInTheLimitCurrency:
    @pytest.mark.parametrize(
        ("chf_per_eur", "overdue", "beyond"),
        [
            # 1 EUR = 0.50 CHF: the 1000.00 EUR tolerance is 500.00 CHF.
            ("0.5000", "500.00", False),
            ("0.5000", "500.01", True),
            # 1 EUR = 2.00 CHF: the tolerance is 2000.00 CHF, so 1000.01 CHF is still within it.
            ("2.0000", "1000.01", False),
            ("2.0000", "2000.00", False),
            ("2.0000", "2000.01", True),
        ],
    )
    async def test_monitor_blocks_exactly_when_a_decision_stops(
        self, running: Running, chf_per_eur: str, overdue: str, beyond: bool
    ) -> None:
        stopped, blocked = await stopped_and_blocked(running, chf_per_eur, overdue)
        assert stopped is beyond
        assert blocked is beyond

    async def test_no_rate_to_the_tolerance_currency_is_a_stop_for_both(self, running: Running) -> None:
        stopped, blocked = await stopped_and_blocked(running, None, "10.00")
        assert stopped is True
        assert blocked is True

    async def test_days_beyond_tolerance_stop_both_in_any_currency(self, running: Running) -> None:
        stopped, blocked = await stopped_and_blocked(running, "2.0000", "10.00", days=31)
        assert stopped is True
        assert blocked is True
